import CSecretAgent
#if canImport(Glibc)
import Glibc
#endif

/// One signal as the agent received it (from its signalfd).
public struct SignalInfo: Sendable, Hashable {
    /// The signal number.
    public var signal: Int32
    /// `si_code`: `SI_USER` (0) for `kill`, `SI_KERNEL` (0x80) for the terminal and the kernel, …
    public var code: Int32
    /// The sender's pid for `kill`/`sigqueue` (0 when sent from outside our pid namespace).
    public var senderPID: pid_t

    public init(signal: Int32, code: Int32 = Signals.codeUser, senderPID: pid_t = 0) {
        self.signal = signal
        self.code = code
        self.senderPID = senderPID
    }

    /// A signal `kill` sent (`SI_USER`) from outside our pid namespace, e.g. `docker stop`.
    public static func user(_ signal: Int32, from pid: pid_t = 0) -> SignalInfo {
        SignalInfo(signal: signal, code: Signals.codeUser, senderPID: pid)
    }

    /// A signal the kernel generated: the terminal's Ctrl-C / Ctrl-\ / resize / hang-up sent to
    /// the whole foreground process group, timers, limits.
    public static func kernel(_ signal: Int32) -> SignalInfo {
        SignalInfo(signal: signal, code: Signals.codeKernel, senderPID: 0)
    }
}

/// Signal numbers and names.
public enum Signals {
    /// `si_code` of a signal sent with `kill()`.
    public static let codeUser: Int32 = Int32(CSA_SI_USER)
    /// `si_code` of a signal the kernel generated (the terminal's, for one).
    public static let codeKernel: Int32 = Int32(CSA_SI_KERNEL)

    /// Every signal the agent blocks and reads from its signalfd, in the C target's order:
    /// HUP INT QUIT USR1 USR2 PIPE ALRM TERM CHLD WINCH URG IO PWR VTALRM PROF XCPU XFSZ STKFLT
    /// and SIGRTMIN…SIGRTMAX as glibc reports them.
    public static let handled: [Int32] = {
        var buffer = [Int32](repeating: 0, count: 128)
        let count = Int(csa_agent_signals(&buffer, Int32(buffer.count)))
        return Array(buffer.prefix(count))
    }()

    /// The signals that end the agent when no supervisor is attached (`get`, `render`…).
    public static let interrupting: Set<Int32> = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// `SIGRTMIN` and `SIGRTMAX` as glibc reports them (it reserves the first few).
    public static var realtimeRange: ClosedRange<Int32> { csa_sigrtmin()...csa_sigrtmax() }

    private static let names: [Int32: String] = [
        SIGHUP: "HUP", SIGINT: "INT", SIGQUIT: "QUIT", SIGILL: "ILL", SIGTRAP: "TRAP",
        SIGABRT: "ABRT", SIGBUS: "BUS", SIGFPE: "FPE", SIGKILL: "KILL", SIGUSR1: "USR1",
        SIGSEGV: "SEGV", SIGUSR2: "USR2", SIGPIPE: "PIPE", SIGALRM: "ALRM", SIGTERM: "TERM",
        SIGSTKFLT: "STKFLT", SIGCHLD: "CHLD", SIGCONT: "CONT", SIGSTOP: "STOP", SIGTSTP: "TSTP",
        SIGTTIN: "TTIN", SIGTTOU: "TTOU", SIGURG: "URG", SIGXCPU: "XCPU", SIGXFSZ: "XFSZ",
        SIGVTALRM: "VTALRM", SIGPROF: "PROF", SIGWINCH: "WINCH", SIGIO: "IO", SIGPWR: "PWR",
        SIGSYS: "SYS",
    ]

    /// `SIGTERM`, `SIGRTMIN+3`, or `SIG42` for a number without a name.
    public static func name(of signal: Int32) -> String {
        if let name = names[signal] { return "SIG" + name }
        let rt = realtimeRange
        if rt.contains(signal) { return signal == rt.lowerBound ? "SIGRTMIN" : "SIGRTMIN+\(signal - rt.lowerBound)" }
        return "SIG\(signal)"
    }

    /// Parses `TERM`, `SIGTERM`, `sigterm`, `15`, `SIGRTMIN+2`; nil when unknown.
    public static func number(named text: String) -> Int32? {
        if let number = Int32(text), number > 0, number < 65 { return number }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if let found = names.first(where: { $0.value == name }) { return found.key }
        let rt = realtimeRange
        if name == "RTMIN" { return rt.lowerBound }
        if name == "RTMAX" { return rt.upperBound }
        if name.hasPrefix("RTMIN+"), let offset = Int32(name.dropFirst(6)), rt.contains(rt.lowerBound + offset) {
            return rt.lowerBound + offset
        }
        if name.hasPrefix("RTMAX-"), let offset = Int32(name.dropFirst(6)), rt.contains(rt.upperBound - offset) {
            return rt.upperBound - offset
        }
        return nil
    }
}
