import Logging
import SecretAgentCore
import SecretTemplate

extension AgentLoop {
    /// Every path the file watcher should watch: rendered destinations (written back when someone
    /// else changes or deletes them), template sources (re-read when edited) and `file:` secrets.
    public func watchedPaths() -> Set<String> {
        var paths = filePaths()
        for f in job.files {
            paths.insert(f.spec.destination)
            if case .file(let source) = f.spec.source { paths.insert(source) }
        }
        return paths
    }

    /// Handles one file-system event. A rendered file that no longer holds what was written (bytes,
    /// mode, owner) is restored: a chmod or chown only by correcting it in place, anything else
    /// by an atomic rewrite.
    public func fileEvent(_ event: FileEvent) async {
        if let f = job.files.first(where: { $0.spec.destination == event.path }), let last = written[event.path] {
            // The same checks as any write (directory owner and mode, tmpfs, confinement); the
            // destination is examined through its directory, never followed nor read unless it
            // is a regular file, so a FIFO planted there cannot block the agent.
            do {
                let w = try Job.fileWrite(f.spec, bytes: last, defaultAllowDisk: settings.defaultAllowDisk)
                try AtomicWriter.preflight([w])
                if try AtomicWriter.write(w) {
                    logger.warning("a rendered file was changed, deleted, or its mode or owner changed by someone else; restored it",
                                   metadata: ["destination": "\(event.path)"])
                }
            } catch {
                logger.error("cannot write back", metadata: [
                    "destination": "\(event.path)", "error": "\((error as? any AgentFailure)?.description ?? "\(error)")",
                ])
            }
        }
        if let index = job.files.firstIndex(where: { if case .file(let s) = $0.spec.source { return s == event.path } else { return false } }),
           event.kind == .changed {
            await templateSourceChanged(at: index)
        }
        if outcomes[.file(path: event.path)] != nil {
            await refresh([.file(path: event.path)], reason: "file changed")
        }
    }

    /// An edited template source: parse it again (a broken edit is refused, the old one stays),
    /// fetch any new references, render and act.
    func templateSourceChanged(at index: Int) async {
        let spec = job.files[index].spec
        let template: Template
        do {
            template = try Job.parse(spec)
        } catch {
            logger.error("edited template refused; the previous version stays", metadata: [
                "template": "\(spec.displayName)", "error": "\((error as? any AgentFailure)?.description ?? "\(error)")",
            ])
            return
        }
        let missing = template.locators.filter { outcomes[$0] == nil }
        if !missing.isEmpty {
            do {
                outcomes.merge(try await providers.fetch(missing)) { _, new in new }
            } catch {
                logger.error("edited template names references that cannot be fetched; the previous version stays", metadata: [
                    "template": "\(spec.displayName)", "error": "\((error as? any AgentFailure)?.description ?? "\(error)")",
                ])
                return
            }
        }
        job.files[index].template = template
        logger.notice("template source changed", metadata: ["template": "\(spec.displayName)"])
        await carryOut(ChangePlan.make(job: job, values: StartupFetch.resolutions(outcomes), changed: [], written: written,
                                       environment: nil, defaultAllowDisk: settings.defaultAllowDisk, force: [spec.destination]))
    }
}
