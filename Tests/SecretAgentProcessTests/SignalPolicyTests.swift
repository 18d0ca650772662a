import Testing
@testable import SecretAgentProcess
#if canImport(Glibc)
import Glibc
#endif

@Suite("Signal forwarding policy")
struct SignalPolicyTests {
    let policy = SignalPolicy(hupReloads: false, agentPID: 4242)

    @Test("kill()ed signals other than TERM/INT are forwarded unchanged", arguments: [
        SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGPIPE, SIGPWR, SIGURG, SIGIO, SIGXCPU, rtmin() + 1,
    ])
    func forwardsUserSignals(signal: Int32) {
        #expect(policy.decide(.user(signal, from: 77)) == .forward(signal))
        #expect(policy.decide(.user(signal)) == .forward(signal))  // from outside the pid namespace
        #expect(policy.decide(SignalInfo(signal: signal, code: -6, senderPID: 77)) == .forward(signal))  // tgkill
    }

    @Test("TERM and INT from kill() terminate", arguments: [SIGTERM, SIGINT])
    func terminates(signal: Int32) {
        #expect(policy.decide(.user(signal, from: 1)) == .terminate(signal))
        #expect(policy.decide(SignalInfo(signal: signal, code: -1, senderPID: 9)) == .terminate(signal))  // sigqueue
    }

    @Test("the terminal's signals reached the whole group: never sent twice", arguments: [
        SIGINT, SIGQUIT, SIGWINCH, SIGHUP, SIGTERM, SIGPIPE,
    ])
    func ignoresKernelSignals(signal: Int32) {
        #expect(policy.decide(.kernel(signal)) == .ignore)
        #expect(SignalPolicy(hupReloads: true, agentPID: 1).decide(.kernel(signal)) == .ignore)
    }

    @Test("SIGCHLD is never forwarded")
    func ignoresChild() {
        #expect(policy.decide(.user(SIGCHLD, from: 5)) == .ignore)
        #expect(policy.decide(.kernel(SIGCHLD)) == .ignore)
    }

    @Test("a SIGPIPE from the agent's own write (sender: itself) is not forwarded")
    func ignoresOwnSignals() {
        #expect(policy.decide(.user(SIGPIPE, from: 4242)) == .ignore)
        #expect(policy.decide(.user(SIGPIPE, from: 4243)) == .forward(SIGPIPE))
    }

    @Test("SIGHUP reloads only with hupReloads")
    func hangUp() {
        let reloading = SignalPolicy(hupReloads: true, agentPID: 4242)
        #expect(reloading.decide(.user(SIGHUP)) == .reload)
        #expect(reloading.decide(.user(SIGUSR1)) == .forward(SIGUSR1))
        #expect(policy.decide(.user(SIGHUP)) == .forward(SIGHUP))
    }
}

@Suite("Signal numbers")
struct SignalsTests {
    @Test("handled: the asynchronous signals and the realtime range, not the synchronous or job-control ones")
    func handledSet() {
        let handled = Set(Signals.handled)
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD, SIGWINCH,
                       SIGURG, SIGIO, SIGPWR, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGSTKFLT] {
            #expect(handled.contains(signal), "\(Signals.name(of: signal))")
        }
        for signal in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS, SIGTSTP, SIGTTIN, SIGTTOU,
                       SIGCONT, SIGKILL, SIGSTOP] {
            #expect(!handled.contains(signal), "\(Signals.name(of: signal))")
        }
        #expect(Signals.realtimeRange == 34...64)  // glibc on Linux reserves 32 and 33
        #expect(Signals.realtimeRange.allSatisfy(handled.contains))
        #expect(Signals.handled.count == 18 + Signals.realtimeRange.count)
    }

    @Test("names and numbers")
    func names() {
        #expect(Signals.name(of: SIGTERM) == "SIGTERM")
        #expect(Signals.name(of: rtmin()) == "SIGRTMIN")
        #expect(Signals.name(of: rtmin() + 2) == "SIGRTMIN+2")
        #expect(Signals.number(named: "hup") == SIGHUP)
        #expect(Signals.number(named: "SIGUSR1") == SIGUSR1)
        #expect(Signals.number(named: "15") == SIGTERM)
        #expect(Signals.number(named: "SIGRTMIN+2") == rtmin() + 2)
        #expect(Signals.number(named: "RTMAX-1") == rtmax() - 1)
        #expect(Signals.number(named: "SIGNOPE") == nil)
    }

    @Test("exit statuses as the agent reports them")
    func exitStatus() {
        #expect(TerminationStatus.exited(7).exitCode == 7)
        #expect(TerminationStatus.signaled(SIGKILL).exitCode == 137)
        #expect(TerminationStatus(waitStatus: 7 << 8) == .exited(7))
        #expect(TerminationStatus(waitStatus: SIGTERM) == .signaled(SIGTERM))
        #expect(TerminationStatus(waitStatus: SIGSEGV | 0x80) == .signaled(SIGSEGV))  // core dumped
    }
}

/// SIGRTMIN/SIGRTMAX as glibc reports them (function-like macros, not imported by Swift).
func rtmin() -> Int32 { Signals.realtimeRange.lowerBound }
func rtmax() -> Int32 { Signals.realtimeRange.upperBound }
