import Logging
import SecretAgentCore
import SecretAgentProcess
import SecretTemplate

extension AgentLoop {
    /// Applies fresh outcomes: logs what changed (names and versions), re-renders, writes every
    /// changed file, then runs each action once.
    public func apply(_ changes: [Locator: FetchOutcome], from backend: String) async {
        var changed = Set<Locator>()
        for (locator, outcome) in changes {
            let old = outcomes[locator]
            if let old, old.sameContent(as: outcome) { continue }
            changed.insert(locator)
            logger.notice("secret changed", metadata: [
                "reference": "\(locator.text)", "backend": "\(backend)",
                "from": "\(Self.versionText(old))", "to": "\(Self.versionText(outcome))",
            ])
            outcomes[locator] = outcome
        }
        guard !changed.isEmpty else { return }
        observer?.changed(changed)
        changesApplied += 1
        await carryOut(ChangePlan.make(job: job, values: StartupFetch.resolutions(outcomes), changed: changed, written: written,
                                       environment: child == nil ? nil : injected, defaultAllowDisk: settings.defaultAllowDisk))
    }

    /// Writes, then acts.
    func carryOut(_ plan: ChangePlan) async {
        for failure in plan.failures {
            logger.error("cannot render after a change; the last good content stays", metadata: [
                "template": "\(failure.template)", "error": "\(failure.error)",
            ])
        }
        var wroteAny = false
        for w in plan.writes {
            do {
                try AtomicWriter.preflight([w])
                if try AtomicWriter.write(w) {
                    wroteAny = true
                    logger.info("rendered", metadata: ["destination": "\(w.destination)", "bytes": "\(w.bytes.count)"])
                }
                written[w.destination] = w.bytes
            } catch {
                logger.error("cannot write", metadata: ["destination": "\(w.destination)", "error": "\(error)"])
            }
        }
        if !plan.writes.isEmpty { observer?.wrote(files: plan.writes.count) }
        if let env = plan.newEnvironment { injected = env }
        if let child {
            if plan.restart {
                await restartChild(child, reason: plan.newEnvironment != nil ? "environment changed" : "on_change: restart")
            } else if plan.reload && wroteAny {
                if restarting {
                    // The new child may have read the files before this write: signal it once the
                    // restart is done.
                    reloadPending = true
                } else {
                    await reloadChild(child)
                }
            }
        }
        for argv in plan.commands where wroteAny {
            await runCommand(argv)
        }
    }

    /// Restarts the child, one restart at a time. The actor is reentrant: a change that arrives
    /// while a restart waits for the old child to stop only asks for another restart, which runs
    /// when this one is done, with the newest environment and command. So two changes within
    /// `stop_timeout` make at most two restarts, and the child that stays runs on the newest values.
    func restartChild(_ child: any ChildControl, reason: String) async {
        restartPending = true
        guard !restarting else {
            logger.debug("a restart is under way; the newest environment follows it", metadata: ["reason": "\(reason)"])
            return
        }
        restarting = true
        defer { restarting = false }
        while restartPending {
            restartPending = false
            logger.notice("restarting the child", metadata: ["reason": "\(reason)"])
            do {
                try await child.restart(environment: composeEnvironment(injected ?? [:]), command: command)
                observer?.restarted()
            } catch {
                logger.error("cannot restart the child", metadata: ["error": "\(error)"])
            }
        }
        if reloadPending {
            reloadPending = false
            await reloadChild(child)
        }
    }

    func reloadChild(_ child: any ChildControl) async {
        logger.notice("signalling the child", metadata: ["signal": "\(SignalName.name(settings.reloadSignal))"])
        await child.reload(signal: settings.reloadSignal)
        observer?.reloaded()
    }

    /// Runs an `on_change` command with the environment the child would get without injected
    /// values: the same scrub (`--pristine`, systemd's variables), never more than the child sees.
    func runCommand(_ argv: [String]) async {
        do {
            let p = try await ChildProcess.spawn(command: argv, environment: composeEnvironment([:]))
            let status = await p.wait()
            let level: Logger.Level = status.exitCode == 0 ? .info : .error
            logger.log(level: level, "on_change command finished", metadata: ["command": "\(argv[0])", "status": "\(status)"])
        } catch {
            logger.error("on_change command failed to start", metadata: ["command": "\(argv[0])", "error": "\(error)"])
        }
    }

    static func versionText(_ outcome: FetchOutcome?) -> String {
        switch outcome {
        case nil: return "-"
        case .notFound?: return "absent"
        case .found(let s)?: return s.version ?? "unversioned"
        }
    }
}
