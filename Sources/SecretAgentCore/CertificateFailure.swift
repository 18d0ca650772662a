/// A server certificate that did not verify, told apart from other connection failures, for the
/// AWS and Vault clients alike (exit 69, not retried: trying again cannot help).
///
/// The TLS stack (swift-nio-ssl over BoringSSL) is read through the error's text, so this module
/// needs no TLS library: `NIOSSLExtraError.failedToValidateHostname` is a wrong host name;
/// BoringSSL's `CERTIFICATE_VERIFY_FAILED` is a chain that does not lead to a trusted root: an
/// untrusted (private or self-signed) issuer, or an expired or not yet valid certificate —
/// BoringSSL does not say which, so the message names both.
///
/// ```swift
/// if let failure = CertificateFailure(error) {
///     throw MyError(.tls, failure.message(endpoint: "vault:8200", fix: "set VAULT_CACERT or vault.ca_cert to the CA's PEM file"))
/// }
/// ```
public struct CertificateFailure: Sendable, Equatable {
    /// What failed.
    public enum Reason: Sendable, Equatable {
        /// The certificate does not name the host the agent connected to.
        case wrongHostName
        /// The chain does not end at a trusted CA, or a certificate in it is out of its validity dates.
        case untrustedOrExpired
        /// The server sent no certificate.
        case noCertificate
    }

    public let reason: Reason

    /// Classifies an error thrown by an HTTP request; nil when it is not a certificate failure.
    public init?(_ error: any Error) {
        let text = String(describing: error) + " " + String(reflecting: error)
        if text.contains("failedToValidateHostname") || text.contains("serverHostnameImpossibleToMatch") {
            reason = .wrongHostName
        } else if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("unableToValidateCertificate")
                    || text.contains("certificate verify failed") {
            reason = .untrustedOrExpired
        } else if text.contains("noCertificateToValidate") || text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") {
            reason = .noCertificate
        } else {
            return nil
        }
    }

    /// What failed, in words.
    public var what: String {
        switch reason {
        case .wrongHostName:
            return "its certificate is not valid for this host name (wrong host name)"
        case .untrustedOrExpired:
            return "its certificate is not signed by a trusted CA (untrusted issuer), or is expired or not yet valid"
        case .noCertificate:
            return "it sent no certificate"
        }
    }

    /// `TLS with <service> at <host:port> failed: <what>; <fix>.`
    ///
    /// - Parameters:
    ///   - service: who the endpoint is (`AWS ssm`, `Vault`).
    ///   - endpoint: `host:port`.
    ///   - fix: what to set for an untrusted issuer, such as `set AWS_CA_BUNDLE or aws.ca_bundle
    ///     to the CA's PEM bundle`.
    ///   - hostNameFix: what to set for a wrong host name (`set VAULT_TLS_SERVER_NAME …`), if
    ///     anything can be; the message always suggests using the certificate's name.
    public func message(service: String, endpoint: String, fix: String, hostNameFix: String? = nil) -> String {
        var text = "TLS with \(service) at \(endpoint) failed: \(what); "
        switch reason {
        case .wrongHostName:
            text += "use an address with a name the certificate was issued for" + (hostNameFix.map { ", or \($0)" } ?? "")
        case .untrustedOrExpired:
            text += "if the server (or a TLS-inspecting proxy) uses a private CA, \(fix); otherwise check the certificate's dates and the clock"
        case .noCertificate:
            text += "check that the address is the server's TLS port"
        }
        return text
    }

    /// The same as an `AgentError` (exit 69, not transient), or nil when `error` is not a
    /// certificate failure: for callers without an error type of their own.
    public static func failure(_ error: any Error, service: String, endpoint: String, fix: String,
                               hostNameFix: String? = nil) -> AgentError? {
        guard let failure = CertificateFailure(error) else { return nil }
        return AgentError(.unavailable, failure.message(service: service, endpoint: endpoint, fix: fix, hostNameFix: hostNameFix))
    }

    /// `host:port` of an http(s) URL (port 443 / 80 when not written), for the message.
    public static func endpoint(ofURL url: String) -> String {
        guard let target = ProxyTarget(url: url) else { return url }
        let host = target.host.contains(":") ? "[\(target.host)]" : target.host
        return "\(host):\(target.port)"
    }
}
