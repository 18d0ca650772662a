// A tiny child for end-to-end tests: records its environment, the signals it gets and watched
// files' contents in a log, one flushed line per event. A test tool: it prints what it is asked.
//
//   --log FILE          append events: `start pid=N ppid=N`, `mask blocked=HEX ignored=HEX`,
//                       `env NAME=VALUE`, `signal NAME`, `file PATH BASE64|-`, `exit N`
//   --print-env NAME    print `NAME=value` to stdout at start (nothing if unset); repeatable
//   --dump-env          log every variable as `env NAME=VALUE` at start
//   --watch-file PATH   at each signal, log the file's content (repeatable)
//   --exit-code N       exit with N when done (also after INT/TERM/QUIT)
//   --stop-after SECS   exit after that long (default: run until INT/TERM/QUIT)
//   --die-by-signal N   kill itself with signal N after start
//   --ignore-term       log SIGTERM but keep running (to test the SIGKILL timeout)
//   --pid-file FILE     write the pid
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) var signalPipe: (read: Int32, write: Int32) = (-1, -1)

struct Options {
    var log: String?
    var printEnv: [String] = []
    var dumpEnv = false
    var watchFiles: [String] = []
    var exitCode: Int32 = 0
    var stopAfter: Double?
    var dieBySignal: Int32?
    var ignoreTerm = false
    var pidFile: String?
}

func fail(_ message: String) -> Never {
    let bytes = Array("test-child: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(64)
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    func value(_ flag: String) -> String {
        guard let value = arguments.next() else { fail("\(flag) needs a value") }
        return value
    }
    func number<T: LosslessStringConvertible>(_ flag: String) -> T {
        guard let number = T(value(flag)) else { fail("bad \(flag)") }
        return number
    }
    while let flag = arguments.next() {
        switch flag {
        case "--log": options.log = value(flag)
        case "--print-env": options.printEnv.append(value(flag))
        case "--dump-env": options.dumpEnv = true
        case "--watch-file": options.watchFiles.append(value(flag))
        case "--exit-code": options.exitCode = number(flag)
        case "--stop-after": options.stopAfter = number(flag)
        case "--die-by-signal": options.dieBySignal = number(flag)
        case "--ignore-term": options.ignoreTerm = true
        case "--pid-file": options.pidFile = value(flag)
        default: fail("unknown flag \(flag)")
        }
    }
    return options
}

/// Appends one line to the log with a single write (O_APPEND: nothing to flush).
func log(_ options: Options, _ line: String) {
    guard let path = options.log else { return }
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { fail("cannot open \(path)") }
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func base64(_ bytes: [UInt8]) -> String {
    let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    var index = 0
    while index < bytes.count {
        let chunk = bytes[index..<min(index + 3, bytes.count)]
        let b = [chunk.first!, chunk.dropFirst().first ?? 0, chunk.dropFirst(2).first ?? 0].map(UInt32.init)
        let n = b[0] << 16 | b[1] << 8 | b[2]
        for position in 0..<4 {
            out.append(position <= chunk.count ? table[Int(n >> UInt32(18 - 6 * position) & 63)] : UInt8(ascii: "="))
        }
        index += 3
    }
    return String(decoding: out, as: UTF8.self)
}

func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var content: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        content += buffer[0..<n]
    }
    return content
}

/// `SigBlk` and `SigIgn` of /proc/self/status: the mask and ignored set it started with.
func startingMasks() -> String {
    guard let status = readFile("/proc/self/status") else { return "unknown" }
    let lines = String(decoding: status, as: UTF8.self).split(separator: "\n")
    func field(_ name: String) -> String {
        lines.first { $0.hasPrefix(name + ":") }.map { $0.dropFirst(name.count + 1).trimmingPrefixSpaces() } ?? "?"
    }
    return "blocked=\(field("SigBlk")) ignored=\(field("SigIgn"))"
}

extension Substring {
    func trimmingPrefixSpaces() -> String { String(drop { $0 == " " || $0 == "\t" }) }
}

let signalNames: [Int32: String] = [
    SIGHUP: "HUP", SIGUSR1: "USR1", SIGUSR2: "USR2", SIGINT: "INT", SIGTERM: "TERM", SIGQUIT: "QUIT", SIGWINCH: "WINCH",
]

let options = parseOptions()
let masks = startingMasks()
var fds: [Int32] = [0, 0]
guard pipe(&fds) == 0 else { fail("pipe failed") }
signalPipe = (fds[0], fds[1])
for signal in signalNames.keys {
    _ = Glibc.signal(signal) { number in
        var byte = UInt8(truncatingIfNeeded: number)
        _ = write(signalPipe.write, &byte, 1)
    }
}

log(options, "start pid=\(getpid()) ppid=\(getppid())")
log(options, "mask \(masks)")
if let pidFile = options.pidFile {
    let fd = open(pidFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    let text = Array("\(getpid())\n".utf8)
    _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}
if options.dumpEnv {
    var entry = environ
    while let pointer = entry.pointee {
        log(options, "env " + String(cString: pointer))
        entry += 1
    }
}
for name in options.printEnv {
    if let value = getenv(name) { print("\(name)=\(String(cString: value))") }
}
fflush(nil)

if let signal = options.dieBySignal {
    _ = Glibc.signal(signal, SIG_DFL)
    kill(getpid(), signal)
    sleep(5)
    fail("still alive after signal \(signal)")
}

func finish(_ code: Int32) -> Never {
    log(options, "exit \(code)")
    exit(code)
}

func monotonicNow() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

let deadline = options.stopAfter.map { monotonicNow() + $0 }

while true {
    var timeout: Int32 = -1
    if let deadline {
        let left = deadline - monotonicNow()
        if left <= 0 { finish(options.exitCode) }
        timeout = Int32(min(left * 1000, 1_000_000).rounded(.up))
    }
    var poller = pollfd(fd: signalPipe.read, events: Int16(POLLIN), revents: 0)
    guard poll(&poller, 1, timeout) > 0 else { continue }
    var byte: UInt8 = 0
    guard read(signalPipe.read, &byte, 1) == 1 else { continue }
    let signal = Int32(byte)
    log(options, "signal \(signalNames[signal] ?? String(signal))")
    for path in options.watchFiles {
        log(options, "file \(path) " + (readFile(path).map(base64) ?? "-"))
    }
    switch signal {
    case SIGTERM where options.ignoreTerm: continue
    case SIGINT, SIGTERM, SIGQUIT: finish(options.exitCode)
    default: continue
    }
}
