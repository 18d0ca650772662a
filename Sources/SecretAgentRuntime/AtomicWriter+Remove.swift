#if canImport(Glibc)
import Glibc
#endif
import SecretAgentCore
import Synchronization

/// A rendered file ``AtomicWriter/remove(_:)`` left in place, and why.
public struct RemovalFailure: Sendable, Hashable, CustomStringConvertible {
    /// The destination as it was written.
    public var path: String
    /// Why it was left: not written by this agent, replaced by something else, or the error.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// The files this process wrote (or found already holding its bytes), by destination: the
/// identity (device, inode) that ``AtomicWriter/remove(_:)`` requires before it unlinks.
enum Written {
    struct Identity {
        var device: UInt
        var inode: UInt
        var owner: uid_t?
    }

    static let files = Mutex<[String: Identity]>([:])

    static func record(_ destination: String, _ st: stat, owner: uid_t?) {
        files.withLock { $0[destination] = Identity(device: UInt(st.st_dev), inode: UInt(st.st_ino), owner: owner) }
    }
}

extension AtomicWriter {
    /// Removes rendered files, best effort: only a regular file that is still the very one this
    /// process wrote (same device and inode) is unlinked, through a descriptor of its directory
    /// (never following a symlink). A destination that is already gone counts as removed.
    /// Returns what was left in place and why (empty when everything went).
    public static func remove(_ destinations: [String]) -> [RemovalFailure] {
        var failures: [RemovalFailure] = []
        for destination in destinations {
            guard let identity = Written.files.withLock({ $0[destination] }) else {
                failures.append(RemovalFailure(path: destination, reason: "not written by this agent; left in place"))
                continue
            }
            if let reason = remove(destination, identity) {
                failures.append(RemovalFailure(path: destination, reason: reason))
            } else {
                Written.files.withLock { _ = $0.removeValue(forKey: destination) }
            }
        }
        return failures
    }

    /// Unlinks one destination when it is still `identity`; the reason it did not, or nil.
    private static func remove(_ destination: String, _ identity: Written.Identity) -> String? {
        let dir: DirectoryHandle
        do throws(AgentError) {
            guard let opened = try DirectoryHandle.open(Paths.directory(of: destination), confinedTo: nil, owner: identity.owner, create: false)
            else { return nil }
            dir = opened
        } catch {
            return "\(error.message); left in place"
        }
        let name = baseName(destination)
        var st = stat()
        guard fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            return errno == ENOENT ? nil : "cannot examine it: \(FileBytes.lastErrorDescription()); left in place"
        }
        guard st.st_mode & S_IFMT == S_IFREG, UInt(st.st_dev) == identity.device, UInt(st.st_ino) == identity.inode else {
            return "replaced by \(Occupant.kind(st.st_mode)) the agent did not write; left in place"
        }
        guard unlinkat(dir.fd, name, 0) == 0 || errno == ENOENT else {
            return "cannot remove it: \(FileBytes.lastErrorDescription())"
        }
        return nil
    }

    /// Removes temporary files a crashed run left in `dir`: regular files named
    /// `.secret-agent-*`, through the directory's descriptor, never following a symlink. In a
    /// shared sticky directory (an absolute destination in /dev/shm) only the agent's own. Does
    /// nothing when the directory is missing or does not pass the ownership check.
    public static func removeLeftovers(in dir: String) {
        guard let handle = try? DirectoryHandle.open(dir, confinedTo: nil, owner: nil, create: false) else { return }
        let listing = openat(handle.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard listing >= 0, let d = fdopendir(listing) else {
            if listing >= 0 { close(listing) }
            return
        }
        defer { closedir(d) }
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            guard name.hasPrefix(tempPrefix) else { continue }
            var st = stat()
            guard fstatat(handle.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            if handle.shared && st.st_uid != geteuid() { continue }
            unlinkat(handle.fd, name, 0)
        }
    }
}
