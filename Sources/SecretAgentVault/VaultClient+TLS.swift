import NIOSSL
import SecretAgentCore

#if canImport(Glibc)
import Glibc
#endif

/// TLS for the Vault client, as the Vault / OpenBao CLI sets it up: the CA file (`VAULT_CACERT`)
/// or else every PEM certificate in the CA directory (`VAULT_CAPATH`) replaces the system's trust
/// store; a client certificate and key (`VAULT_CLIENT_CERT` / `VAULT_CLIENT_KEY`) for mutual TLS;
/// `VAULT_TLS_SERVER_NAME` is sent as SNI and verified (the request goes to that name, which the
/// HTTP client's `dnsOverride` maps to the address's host: see `VaultBackend.dnsOverride`).
extension VaultClient {
    /// The TLS configuration for an https address; nil when the HTTP client's defaults do.
    /// Every file is read and parsed here, so a bad one is a configuration error (exit 78) at
    /// start, naming the file (never a key's content).
    static func tlsConfiguration(_ options: VaultOptions) throws(VaultError) -> TLSConfiguration? {
        guard options.address.hasPrefix("https://"),
              options.caCert != nil || options.caPath != nil || options.clientCert != nil || options.skipVerify else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = options.caCert {
            tls.trustRoots = .certificates(try certificates(inFile: ca, what: "Vault CA certificate", setting: "vault.ca_cert or VAULT_CACERT"))
        } else if let directory = options.caPath {
            tls.trustRoots = .certificates(try certificates(inDirectory: directory))
        }
        if let certFile = options.clientCert, let keyFile = options.clientKey {
            let chain = try certificates(inFile: certFile, what: "Vault client certificate", setting: "vault.client_cert or VAULT_CLIENT_CERT")
            tls.certificateChain = chain.map { .certificate($0) }
            guard FileBytes.isReadable(keyFile) else {
                throw VaultError(.config, "the Vault client key \(keyFile) (vault.client_key or VAULT_CLIENT_KEY) cannot be read: \(FileBytes.lastErrorDescription())")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw VaultError(.config, "the Vault client key \(keyFile) (vault.client_key or VAULT_CLIENT_KEY) is not an unencrypted PEM private key")
            }
        }
        if options.skipVerify { tls.certificateVerification = .none }
        do {
            _ = try NIOSSLContext(configuration: tls)  // a key that does not match its certificate fails here
        } catch {
            throw VaultError(.config, "the Vault TLS settings do not work together (\(type(of: error))): check that vault.client_key / VAULT_CLIENT_KEY is the key of vault.client_cert / VAULT_CLIENT_CERT")
        }
        return tls
    }

    /// The PEM certificates of one file; an error naming the file and the setting otherwise.
    static func certificates(inFile path: String, what: String, setting: String) throws(VaultError) -> [NIOSSLCertificate] {
        guard let bytes = FileBytes.read(path, limit: 16 << 20) else {
            throw VaultError(.config, "the \(what) \(path) (\(setting)) cannot be read: \(FileBytes.lastErrorDescription())")
        }
        guard let found = try? NIOSSLCertificate.fromPEMBytes(bytes), !found.isEmpty else {
            throw VaultError(.config, "the \(what) \(path) (\(setting)) holds no PEM certificate")
        }
        return found
    }

    /// Every certificate in the PEM files of `directory` (sorted by name; files without a
    /// `BEGIN CERTIFICATE` block, such as a README, are skipped; subdirectories are not read).
    static func certificates(inDirectory directory: String) throws(VaultError) -> [NIOSSLCertificate] {
        let setting = "vault.ca_path or VAULT_CAPATH"
        guard let handle = opendir(directory) else {
            throw VaultError(.config, "the Vault CA directory \(directory) (\(setting)) cannot be read: \(FileBytes.lastErrorDescription())")
        }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        closedir(handle)
        var all: [NIOSSLCertificate] = []
        for name in names.sorted() {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
                  let bytes = FileBytes.read(path, limit: 16 << 20),
                  bytes.count >= 27, String(decoding: bytes, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else { continue }
            guard let found = try? NIOSSLCertificate.fromPEMBytes(bytes), !found.isEmpty else {
                throw VaultError(.config, "the file \(path) in the Vault CA directory (\(setting)) has a certificate block that does not parse")
            }
            all += found
        }
        guard !all.isEmpty else {
            throw VaultError(.config, "the Vault CA directory \(directory) (\(setting)) holds no PEM certificate")
        }
        return all
    }

    /// Vault's side of "the server's certificate does not verify" (exit 69, not retried): what
    /// failed and what fixes it, naming the endpoint. Nil when `error` is not a TLS failure.
    static func tlsFailure(_ error: any Error, reason: String, address: String, serverName: String?) -> VaultError? {
        let fix = "set vault.ca_cert / VAULT_CACERT to the CA's certificate file, or vault.ca_path / VAULT_CAPATH to a directory of CA certificates"
        // The server's certificate: the one message the AWS client gives too (CertificateFailure).
        if let failure = CertificateFailure(error) {
            let name = serverName ?? RedirectURL.parse(address)?.host ?? address
            return VaultError(.tls, failure.message(service: "Vault", endpoint: address, fix: fix,
                                                    hostNameFix: "set vault.tls_server_name / VAULT_TLS_SERVER_NAME to a name it carries (the agent asked for \(name))"))
        }
        guard error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError || reason.contains("certificate") else { return nil }
        if reason.contains("TLSV1_ALERT_UNKNOWN_CA") || reason.contains("CERTIFICATE_REQUIRED") || reason.contains("BAD_CERTIFICATE") {
            return VaultError(.tls, "TLS with Vault at \(address) failed: the server refused the client certificate (\(reason)); check vault.client_cert / VAULT_CLIENT_CERT")
        }
        return VaultError(.tls, "TLS with Vault at \(address) failed: \(reason); if the server's certificate comes from a private CA, \(fix)")
    }
}
