import SecretAgentCore
import SecretTemplate

/// What one change leads to: the files to write and the actions to run, each once.
///
/// Computed without side effects from the job, the values and what was last written, so the
/// rules — re-render only what uses a changed reference, rewrite only changed bytes, write all
/// files before any action, one reload per change — are unit-tested here.
public struct ChangePlan: Sendable {
    public var writes: [FileWrite] = []
    /// The child's new injected environment when it differs from the current one.
    public var newEnvironment: [String: String]?
    /// Send the reload signal once.
    public var reload = false
    /// Restart the child once (an environment change or `on_change: restart`); wins over reload.
    public var restart = false
    /// Distinct `on_change` commands, in template order.
    public var commands: [[String]] = []
    /// Templates that could not be rendered with the new values: their files keep the last good content.
    public var failures: [(template: String, error: String)] = []

    public var isEmpty: Bool { writes.isEmpty && newEnvironment == nil && !reload && !restart && commands.isEmpty }

    /// Plans the consequences of `changed` locators.
    ///
    /// - Parameters:
    ///   - written: the bytes last written per destination (an unchanged render is no write).
    ///   - environment: the injected environment the child has now; nil when there is no child.
    ///   - force: templates to re-render whatever their references (an edited template source).
    public static func make(job: Job, values: [Locator: Resolution], changed: Set<Locator>, written: [String: [UInt8]],
                            environment: [String: String]?, defaultAllowDisk: Bool, force: Set<String> = [],
                            forceEnvironment: Bool = false) -> ChangePlan {
        var plan = ChangePlan()
        for f in job.files where force.contains(f.spec.destination) || !f.template.locators.isDisjoint(with: changed) {
            let bytes: [UInt8]
            do {
                bytes = try f.template.render(values)
            } catch {
                plan.failures.append((f.spec.displayName, "\(error)"))
                continue
            }
            guard written[f.spec.destination] != bytes else { continue }
            do {
                plan.writes.append(try Job.fileWrite(f.spec, bytes: bytes, defaultAllowDisk: defaultAllowDisk))
            } catch {
                plan.failures.append((f.spec.displayName, "\(error)"))
                continue
            }
            switch f.spec.onChange {
            case .reload: plan.reload = true
            case .restart: plan.restart = true
            case .none: break
            case .command(let argv): if !plan.commands.contains(argv) { plan.commands.append(argv) }
            }
        }
        if let environment {
            let usesChanged = forceEnvironment || job.env.contains { !$0.template.locators.isDisjoint(with: changed) }
                || job.envFrom.contains { changed.contains($0.locator) }
            if usesChanged {
                var envOnly = job
                envOnly.files = []
                do {
                    let fresh = try envOnly.render(values, defaultAllowDisk: defaultAllowDisk).environment
                    if fresh != environment {
                        plan.newEnvironment = fresh
                        plan.restart = true
                    }
                } catch {
                    plan.failures.append(("the child's environment", "\(error)"))
                }
            }
        }
        if plan.restart { plan.reload = false }
        return plan
    }
}
