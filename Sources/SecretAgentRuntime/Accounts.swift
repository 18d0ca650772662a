#if canImport(Glibc)
import Glibc
#endif
import SecretAgentCore

/// Resolves `user:`/`group:` names or ids.
///
/// Only the reentrant lookups (`getpwnam_r`, `getgrnam_r`, `getpwuid_r`) are used: actors call
/// these concurrently, and the plain ones return a pointer into one static buffer per process.
public enum Accounts {
    /// The uid of a user name or number; throws (exit 78) for an unknown name.
    public static func uid(_ name: String) throws(AgentError) -> uid_t {
        if let n = UInt32(name) { return n }
        let found = lookup(sizeHint: _SC_GETPW_R_SIZE_MAX, read: { (e: passwd) in e.pw_uid }) { entry, buffer, size, result in
            getpwnam_r(name, entry, buffer, size, result)
        }
        guard let uid = found.value else { throw AgentError.config("unknown user '\(name)'\(found.problem)") }
        return uid
    }

    /// The gid of a group name or number; throws (exit 78) for an unknown name.
    public static func gid(_ name: String) throws(AgentError) -> gid_t {
        if let n = UInt32(name) { return n }
        let found = lookup(sizeHint: _SC_GETGR_R_SIZE_MAX, read: { (e: group) in e.gr_gid }) { entry, buffer, size, result in
            getgrnam_r(name, entry, buffer, size, result)
        }
        guard let gid = found.value else { throw AgentError.config("unknown group '\(name)'\(found.problem)") }
        return gid
    }

    /// The primary group of `uid`, or nil when the user database does not know it.
    public static func primaryGroup(of uid: uid_t) -> gid_t? {
        lookup(sizeHint: _SC_GETPW_R_SIZE_MAX, read: { (e: passwd) in e.pw_gid }) { entry, buffer, size, result in
            getpwuid_r(uid, entry, buffer, size, result)
        }.value
    }

    /// Runs one `get*_r` call with a buffer of `sysconf(sizeHint)` bytes (1 KiB when unknown),
    /// doubled on ERANGE up to 1 MiB; `read` takes what is needed from the entry while its buffer
    /// lives. `problem` is empty for "not found", else the reason the lookup failed.
    static func lookup<Entry, T>(
        sizeHint: Int, read: (Entry) -> T,
        _ call: (UnsafeMutablePointer<Entry>, UnsafeMutablePointer<CChar>, Int, UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>) -> Int32
    ) -> (value: T?, problem: String) {
        var size = max(sysconf(Int32(sizeHint)), 1024)
        let entry = UnsafeMutablePointer<Entry>.allocate(capacity: 1)
        defer { entry.deallocate() }
        while true {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buffer.deallocate() }
            var result: UnsafeMutablePointer<Entry>?
            let rc = call(entry, buffer, size, &result)
            if rc == ERANGE && size < 1 << 20 {
                size *= 2
                continue
            }
            if rc != 0 { return (nil, " (the lookup failed: \(FileBytes.lastErrorDescription(rc)))") }
            return (result.map { read($0.pointee) }, "")
        }
    }
}
