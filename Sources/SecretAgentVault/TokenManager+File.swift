import SecretAgentCore

#if canImport(Glibc)
import Glibc
#endif

/// What `stat` says of a file, cheaply compared before each use of a token read from it:
/// device, inode, size and modification time (a rename over it or a rewrite in place changes one).
struct FileStamp: Sendable, Equatable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let seconds: Int
    let nanoseconds: Int

    /// Nil when the file cannot be stat'ed.
    init?(_ path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        seconds = Int(st.st_mtim.tv_sec)
        nanoseconds = Int(st.st_mtim.tv_nsec)
    }
}

/// `token_file` that another process refreshes (`bao agent`'s token sink): before each use of
/// the token the file is stat'ed, and when it changed it is read again; a new token is looked up
/// and used from then on. A file that became empty or unreadable, or a token the server refuses,
/// keeps the last token (with a warning that names the file, never a token).
extension TokenManager {
    /// The token file to watch: `token_file` with the `token` method, when no `VAULT_TOKEN` /
    /// `BAO_TOKEN` in the environment wins over it.
    var watchedTokenFile: String? {
        guard auth.method == .token, let file = auth.settings.tokenFile else { return nil }
        for name in ["VAULT_TOKEN", "BAO_TOKEN"] where !(auth.environment[name]?.trimmingWhitespace.isEmpty ?? true) { return nil }
        return file
    }

    /// Reads the token file again when its stamp changed (or always, with `force`), and switches
    /// to the token it holds when that differs from the current one.
    func refreshFromTokenFile(force: Bool) async {
        guard let file = watchedTokenFile, let current = currentToken else { return }
        let stamp = FileStamp(file)
        guard force || stamp != tokenFileStamp else { return }
        tokenFileStamp = stamp
        guard let text = FileBytes.readCredential(file), !text.isEmpty else {
            logger.warning("the Vault token file is empty or cannot be read; keeping the last token", metadata: ["file": "\(file)"])
            return
        }
        guard text != current else { return }
        do {
            try await login(reason: "token file changed")
        } catch {
            logger.warning("the new token in the Vault token file was not accepted; keeping the last token",
                           metadata: ["file": "\(file)", "error": "\(error.message)"])
        }
    }
}
