import CSecretAgent
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Best-effort protection of secret bytes in the agent's own memory: pages locked in RAM (never
/// written to swap) where the kernel allows it, buffers wiped when they are replaced.
///
/// Core dumps are already off (`csa_disable_core_dumps`: `PR_SET_DUMPABLE` 0 and `RLIMIT_CORE`
/// 0); this covers the other ways memory reaches a disk. Swift copies values freely (copy on
/// write, string bridging, the allocator's freed blocks), so wiping is a reduction of exposure,
/// not a guarantee: the page lock is what actually keeps secrets off swap.
public enum SecretMemory {
    /// What `lockAll()` did.
    public enum LockResult: Equatable, Sendable, CustomStringConvertible {
        /// Every page is locked as it is first touched, now and in the future.
        case locked
        /// Not attempted: locking could make later allocations fail (the reason says why).
        case skipped(String)
        /// `mlockall` failed with this errno; nothing is locked.
        case failed(Int32)

        public var description: String {
            switch self {
            case .locked: return "memory locked (mlockall, on fault)"
            case .skipped(let reason): return "memory not locked: \(reason)"
            case .failed(let code): return "memory not locked: mlockall failed (\(String(cString: strerror(code))))"
            }
        }
    }

    /// The result of the last `lockAll()`, for a log line once logging is set up.
    nonisolated(unsafe) public private(set) static var lastLockResult: LockResult = .skipped("not attempted")

    /// `mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)`: every page of the process is locked in
    /// RAM when it is first touched, so no page that ever held a secret is swapped out. Pages are
    /// not populated in advance (`MCL_ONFAULT`, Linux 4.4+), so the resident size does not grow.
    ///
    /// Only when the lock cannot run out: with `CAP_IPC_LOCK` or an unlimited `RLIMIT_MEMLOCK`.
    /// Under a finite limit, `MCL_FUTURE` would make the allocation that crosses it fail (thread
    /// stacks, the heap), so the agent stays unlocked instead and says so. Call it once, early.
    @discardableResult
    public static func lockAll() -> LockResult {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &limit)
        guard hasCapability(ipcLock) || limit.rlim_cur == rlim_t.max else {
            lastLockResult = .skipped("RLIMIT_MEMLOCK is \(limit.rlim_cur / 1024) KiB and CAP_IPC_LOCK is missing "
                                      + "(LimitMEMLOCK=infinity in the systemd unit, or --cap-add IPC_LOCK, enables it)")
            return lastLockResult
        }
        let onFault: Int32 = 4 // MCL_ONFAULT
        if mlockall(MCL_CURRENT | MCL_FUTURE | onFault) == 0 {
            lastLockResult = .locked
        } else {
            lastLockResult = .failed(errno)
        }
        return lastLockResult
    }

    /// Hands back the pages of the agent's own code and constant data once it has started:
    /// parsing arguments and the configuration, the first fetch, TLS set-up and the first render
    /// touch code an idle agent does not run again, and the kernel's fault-around maps 64 KiB
    /// around each page touched. Those pages are unlocked (`lockAll` locked them as they were
    /// touched; code holds no secret), reclaimed where only this process maps them and unmapped
    /// where other processes map them too; what the poll loop needs faults back in from the
    /// binary. Writable and relocated segments are never touched. Logs the size at debug.
    public static func releaseCodePages(logger: Logger) {
        let released = csa_release_code_pages()
        if released < 0 {
            logger.debug("code pages kept: madvise failed (\(String(cString: strerror(errno))))")
        } else {
            logger.debug("code pages handed back after start-up", metadata: ["kib": "\(released / 1024)"])
        }
    }

    /// Overwrites the array's bytes with zeros (a write the optimizer keeps) and empties it.
    ///
    /// Wipes the storage this array owns: when the storage is shared with another copy, Swift
    /// gives this array its own copy first, and the shared one is left to its other owner.
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { zero($0) }
        bytes.removeAll()
    }

    /// Overwrites a buffer with zeros in a way the compiler may not remove.
    public static func zero(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        explicit_bzero(base, buffer.count)
    }

    /// True when the process has the capability in its effective set (`CapEff` of /proc/self/status).
    static func hasCapability(_ bit: Int) -> Bool {
        guard let file = fopen("/proc/self/status", "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            guard text.hasPrefix("CapEff:") else { continue }
            let hex = text.dropFirst("CapEff:".count).filter { $0.isHexDigit }
            guard let mask = UInt64(hex, radix: 16) else { return false }
            return mask & (1 << UInt64(bit)) != 0
        }
        return false
    }

    static let ipcLock = 14 // CAP_IPC_LOCK
}

/// Secret bytes kept in their own page-aligned allocation: locked in RAM (`mlock`, best effort,
/// within `RLIMIT_MEMLOCK`), left out of core dumps (`MADV_DONTDUMP`), and wiped when released.
/// For values the agent holds for a long time (the last rendered contents of each file).
public final class SecretBytes: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    /// How many bytes are valid.
    public let count: Int
    /// Whether `mlock` succeeded for this buffer.
    public let isLocked: Bool

    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        let page = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        let size = max(page, (bytes.count + page - 1) / page * page)
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, page, size) == 0, let pointer else {
            fatalError("cannot allocate \(size) bytes for a secret")
        }
        storage = UnsafeMutableRawBufferPointer(start: pointer, count: size)
        count = bytes.count
        _ = madvise(pointer, size, 16) // MADV_DONTDUMP
        isLocked = mlock(pointer, size) == 0
        storage.copyBytes(from: bytes)
    }

    /// The bytes, for reading.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0..<count]))
    }

    /// A copy as an array (which is not protected: keep it short-lived).
    public var array: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Compares without copying.
    public func equals<C: Collection>(_ other: C) -> Bool where C.Element == UInt8 {
        guard other.count == count else { return false }
        return withUnsafeBytes { $0.elementsEqual(other) }
    }

    deinit {
        SecretMemory.zero(storage)
        if isLocked { munlock(storage.baseAddress, storage.count) }
        free(storage.baseAddress)
    }
}
