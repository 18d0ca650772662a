import Testing
@testable import SecretAgentProcess
#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's state machine, transition by transition.
@Suite("Supervisor state machine")
struct SupervisorMachineTests {
    typealias Machine = SupervisorMachine

    func running(pid: pid_t = 100, hupReloads: Bool = false, stopSignal: Int32 = SIGTERM) throws -> Machine {
        var machine = Machine(
            policy: SignalPolicy(hupReloads: hupReloads, agentPID: 1), stopSignal: stopSignal, stopTimeout: .seconds(30))
        try machine.startRequested()
        #expect(machine.phase == .starting)
        #expect(machine.started(pid: pid) == [])
        #expect(machine.phase == .running(pid))
        return machine
    }

    @Test("a forwardable signal goes to the running child")
    func forward() throws {
        var machine = try running()
        #expect(machine.received(.user(SIGUSR1)) == [.send(SIGUSR1, to: 100)])
        #expect(machine.received(.user(SIGHUP)) == [.send(SIGHUP, to: 100)])
        #expect(machine.received(.kernel(SIGWINCH)) == [])
        #expect(machine.phase == .running(100))
    }

    @Test("SIGTERM from kill: stop signal, SIGKILL scheduled, then the child's status ends supervision")
    func gracefulStop() throws {
        var machine = try running(stopSignal: SIGQUIT)
        #expect(machine.received(.user(SIGTERM)) == [
            .emit(.terminateRequested(SIGTERM)), .send(SIGQUIT, to: 100), .scheduleKill(100, after: .seconds(30)),
        ])
        #expect(machine.phase == .stopping(100, signal: SIGQUIT))
        #expect(machine.ending)
        // Asked again: the stop signal again, no new timer.
        #expect(machine.received(.user(SIGINT)) == [.send(SIGQUIT, to: 100)])
        // Other signals are still forwarded while it stops.
        #expect(machine.received(.user(SIGUSR2)) == [.send(SIGUSR2, to: 100)])
        #expect(machine.exited(pid: 100, status: .exited(0)) == [.emit(.childExited(.exited(0))), .finish(.exited(0))])
        #expect(machine.phase == .finished(.exited(0)))
        #expect(machine.received(.user(SIGUSR1)) == [])
    }

    @Test("the deadline sends SIGKILL only if that child is still stopping")
    func killDeadline() throws {
        var machine = try running()
        #expect(machine.killDeadline(pid: 100) == [])  // running: not stopping
        _ = machine.received(.user(SIGINT))
        #expect(machine.killDeadline(pid: 99) == [])
        #expect(machine.killDeadline(pid: 100) == [.send(SIGKILL, to: 100)])
        #expect(machine.exited(pid: 100, status: .signaled(SIGKILL)).last == .finish(.signaled(SIGKILL)))
        #expect(machine.killDeadline(pid: 100) == [])
    }

    @Test("a Ctrl-C from the terminal: the child got it, nothing sent, supervision goes on")
    func terminalInterrupt() throws {
        var machine = try running()
        #expect(machine.received(.kernel(SIGINT)) == [])
        #expect(machine.phase == .running(100))
        #expect(!machine.ending)
        #expect(machine.exited(pid: 100, status: .signaled(SIGINT)) == [
            .emit(.childExited(.signaled(SIGINT))), .finish(.signaled(SIGINT)),
        ])
    }

    @Test("SIGHUP with hupReloads is an event, not a signal to the child")
    func reload() throws {
        var machine = try running(hupReloads: true)
        #expect(machine.received(.user(SIGHUP)) == [.emit(.reloadRequested)])
        #expect(machine.phase == .running(100))
    }

    @Test("the child exiting on its own ends supervision; stale pids are ignored")
    func ownExit() throws {
        var machine = try running()
        #expect(machine.exited(pid: 55, status: .exited(3)) == [])
        #expect(machine.exited(pid: 100, status: .exited(7)) == [.emit(.childExited(.exited(7))), .finish(.exited(7))])
        #expect(throws: ProcessError.self) { try machine.startRequested() }
    }

    @Test("restart: stop without ending, idle, start again")
    func restart() throws {
        var machine = try running()
        #expect(machine.stopRequested(signal: SIGTERM, timeout: .seconds(5), ending: false) == [
            .send(SIGTERM, to: 100), .scheduleKill(100, after: .seconds(5)),
        ])
        #expect(machine.exited(pid: 100, status: .exited(0)) == [.emit(.childExited(.exited(0)))])
        #expect(machine.phase == .idle(last: .exited(0)))
        try machine.startRequested()
        #expect(machine.started(pid: 101) == [])
        #expect(machine.phase == .running(101))
    }

    @Test("SIGTERM during a restart's stop: no new child, the old status ends supervision")
    func terminateDuringRestart() throws {
        var machine = try running()
        _ = machine.stopRequested(signal: SIGTERM, timeout: .seconds(5), ending: false)
        // Already stopping: the event only.
        #expect(machine.received(.user(SIGTERM)) == [.emit(.terminateRequested(SIGTERM))])
        #expect(machine.exited(pid: 100, status: .exited(0)) == [.emit(.childExited(.exited(0))), .finish(.exited(0))])
        let error = #expect(throws: ProcessError.self) { try machine.startRequested() }
        #expect(error?.kind == .supervisionEnded)
    }

    @Test("SIGTERM between a restart's stop and start finishes with the last status")
    func terminateWhileIdle() throws {
        var machine = try running()
        _ = machine.stopRequested(signal: SIGTERM, timeout: .seconds(5), ending: false)
        _ = machine.exited(pid: 100, status: .exited(0))
        #expect(machine.received(.user(SIGTERM)) == [.emit(.terminateRequested(SIGTERM)), .finish(.exited(0))])
    }

    @Test("SIGTERM while the spawn is under way: the stop follows as soon as the pid is known")
    func terminateWhileStarting() throws {
        var machine = Machine(policy: SignalPolicy(agentPID: 1), stopSignal: SIGTERM, stopTimeout: .seconds(2))
        try machine.startRequested()
        #expect(machine.received(.user(SIGUSR1)) == [])  // no child yet to forward to
        #expect(machine.received(.user(SIGTERM)) == [.emit(.terminateRequested(SIGTERM))])
        #expect(machine.started(pid: 7) == [.send(SIGTERM, to: 7), .scheduleKill(7, after: .seconds(2))])
    }

    @Test("SIGTERM while the spawn fails: finished with 128+N")
    func terminateThenSpawnFails() throws {
        var machine = Machine(policy: SignalPolicy(agentPID: 1))
        try machine.startRequested()
        _ = machine.received(.user(SIGINT))
        #expect(machine.startFailed() == [.finish(.signaled(SIGINT))])
    }

    @Test("a failed spawn goes back to idle; a second start while running is refused")
    func startFailures() throws {
        var machine = Machine(policy: SignalPolicy(agentPID: 1))
        try machine.startRequested()
        #expect(throws: ProcessError.self) { try machine.startRequested() }
        #expect(machine.startFailed() == [])
        #expect(machine.phase == .idle(last: nil))
        try machine.startRequested()
    }

    @Test("stop() by the lead: custom signal and timeout, ends supervision; without a child finishes at once")
    func leadStop() throws {
        var machine = try running()
        #expect(machine.stopRequested(signal: SIGUSR2, timeout: .milliseconds(10), ending: true) == [
            .send(SIGUSR2, to: 100), .scheduleKill(100, after: .milliseconds(10)),
        ])
        #expect(machine.exited(pid: 100, status: .exited(2)).last == .finish(.exited(2)))

        var idle = Machine(policy: SignalPolicy(agentPID: 1))
        #expect(idle.stopRequested(signal: SIGTERM, timeout: .seconds(1), ending: true) == [.finish(.exited(0))])
        #expect(idle.stopRequested(signal: SIGTERM, timeout: .seconds(1), ending: true) == [])
    }
}
