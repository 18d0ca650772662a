#if canImport(Glibc)
import Glibc
#endif

/// Signal names as configuration writes them (`SIGHUP`, `HUP`, `hup`, or a number).
public enum SignalName {
    static let table: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("KILL", SIGKILL), ("USR1", SIGUSR1),
        ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM), ("TERM", SIGTERM), ("CONT", SIGCONT),
        ("STOP", SIGSTOP), ("TSTP", SIGTSTP), ("WINCH", SIGWINCH), ("URG", SIGURG), ("PWR", SIGPWR),
    ]

    /// The signal number for a name, or nil.
    public static func number(_ name: String) -> Int32? {
        if let n = Int32(name), n > 0, n < 65 { return n }
        var upper = name.uppercased()
        if upper.hasPrefix("SIG") { upper.removeFirst(3) }
        return table.first { $0.0 == upper }?.1
    }

    /// `SIGHUP` for 1, `signal 40` for what has no name here.
    public static func name(_ number: Int32) -> String {
        table.first { $0.1 == number }.map { "SIG" + $0.0 } ?? "signal \(number)"
    }
}
