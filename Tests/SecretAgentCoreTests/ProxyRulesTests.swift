import SecretAgentCore
import Testing

/// The environment → proxy choice for a URL, and the certificate-failure mapping.
@Suite("proxy rules")
struct ProxyRulesTests {
    let proxy = ProxyURL(host: "proxy.corp", port: 3128)

    func rules(_ env: [String: String], configured: String? = nil) throws -> ProxyRules {
        try ProxyRules.resolve(environment: env, configured: configured, configKey: "aws.proxy")
    }

    @Test func proxyURLsAreParsedWithCredentialsAndDefaults() throws {
        let p = try ProxyURL.parse("http://us%40er:p%3Ass@proxy.corp:3128/", origin: "HTTPS_PROXY")
        #expect(p == ProxyURL(host: "proxy.corp", port: 3128, username: "us@er", password: "p:ss"))
        #expect(p.description == "http://us%40er:***@proxy.corp:3128")
        #expect(try ProxyURL.parse("proxy.corp:8080", origin: "x") == ProxyURL(host: "proxy.corp", port: 8080))
        #expect(try ProxyURL.parse("HTTP://proxy.corp", origin: "x") == ProxyURL(host: "proxy.corp", port: 80))
        #expect(try ProxyURL.parse("http://[fd00::1]:3128", origin: "x") == ProxyURL(host: "fd00::1", port: 3128))
        #expect(ProxyURL(host: "fd00::1", port: 3128).description == "http://[fd00::1]:3128")
    }

    @Test func badProxyURLsAreConfigErrorsThatNeverShowThePassword() {
        for text in ["https://u:hunter2@proxy:3128", "socks5://u:hunter2@proxy:1080", "http://u:hunter2@proxy:99999",
                     "http://u:hunter2@", "http://u:hunter2@pro xy:1"] {
            do {
                _ = try ProxyURL.parse(text, origin: "HTTPS_PROXY")
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.kind == .config)
                #expect(error.message.hasPrefix("HTTPS_PROXY"))
                #expect(!error.message.contains("hunter2"), "\(error.message)")
            }
        }
    }

    @Test func schemePicksTheVariableAndLowerCaseWins() throws {
        let r = try rules(["HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2", "HTTP_PROXY": "http://plain:3"])
        #expect(r.proxy(forURL: "https://ssm.eu-west-1.amazonaws.com/") == ProxyURL(host: "lower", port: 2))
        #expect(r.proxy(forURL: "http://127.0.0.1:5000") == ProxyURL(host: "plain", port: 3))
        #expect(r.https?.1 == "https_proxy")
        let onlyHTTPS = try rules(["HTTPS_PROXY": "http://proxy.corp:3128", "http_proxy": ""])
        #expect(onlyHTTPS.proxy(forURL: "http://vault:8200") == nil)
        #expect(onlyHTTPS.proxy(forURL: "https://vault:8200") == proxy)
        #expect(try rules([:]).proxy(forURL: "https://x") == nil)
    }

    @Test func noProxyNamesSuffixesAddressesNetworksPortsAndStar() throws {
        func direct(_ noProxy: String, _ url: String) throws -> Bool {
            try rules(["HTTPS_PROXY": "http://proxy.corp:3128", "HTTP_PROXY": "http://proxy.corp:3128", "no_proxy": noProxy])
                .proxy(forURL: url) == nil
        }
        #expect(try direct("example.com", "https://example.com/x"))
        #expect(try direct("example.com", "https://vault.example.com:8200"))
        #expect(try direct(".example.com", "https://vault.example.com"))
        #expect(try direct(".example.com", "https://example.com"))
        #expect(try direct("*.example.com", "https://a.b.example.com"))
        #expect(try !direct("example.com", "https://notexample.com"))
        #expect(try direct(" other.org , EXAMPLE.com ", "https://Vault.Example.COM."))
        #expect(try direct("10.1.2.3", "http://10.1.2.3:8200"))
        #expect(try !direct("10.1.2.3", "http://10.1.2.4:8200"))
        #expect(try direct("10.0.0.0/8", "http://10.200.3.4"))
        #expect(try !direct("10.0.0.0/8", "http://11.0.0.1"))
        #expect(try direct("192.168.1.0/23", "http://192.168.0.200"))
        #expect(try !direct("192.168.1.0/24", "http://192.168.0.200"))
        #expect(try direct("fd00::/8", "http://[fd00:ec2::254]/"))
        #expect(try direct("::1", "http://[::1]:8200"))
        #expect(try direct("vault.corp:8200", "https://vault.corp:8200"))
        #expect(try !direct("vault.corp:8200", "https://vault.corp"))
        #expect(try direct("127.0.0.1:5000", "http://127.0.0.1:5000"))
        #expect(try !direct("127.0.0.1:5000", "http://127.0.0.1:5001"))
        #expect(try direct("[::1]:8200", "http://[::1]:8200"))
        #expect(try direct("*", "https://anything"))
        #expect(try !direct("", "https://anything"))
        #expect(try !direct("localhost", "http://127.0.0.1"))  // no DNS: a name never matches an address
    }

    @Test func aConfiguredProxyReplacesTheVariablesAndNoneTurnsThemOff() throws {
        let env = ["HTTPS_PROXY": "http://env:1", "HTTP_PROXY": "http://env:1", "NO_PROXY": "internal"]
        let configured = try rules(env, configured: "http://proxy.corp:3128")
        #expect(configured.proxy(forURL: "https://sts.amazonaws.com") == proxy)
        #expect(configured.proxy(forURL: "http://moto:5000") == proxy)
        #expect(configured.proxy(forURL: "https://vault.internal") == nil)
        #expect(configured.https?.1 == "aws.proxy")
        let none = try rules(env, configured: "none")
        #expect(none == .direct)
        #expect(none.summary == "no proxy")
    }

    @Test func theSummaryNamesProxiesAndOriginsWithoutCredentials() throws {
        let r = try rules(["https_proxy": "http://u:hunter2@proxy.corp:3128", "NO_PROXY": "localhost,.internal"])
        #expect(r.summary == "https via http://proxy.corp:3128 (https_proxy), http direct; except NO_PROXY: localhost, .internal")
        #expect(r.proxies == [ProxyURL(host: "proxy.corp", port: 3128, username: "u", password: "hunter2")])
    }

    @Test func certificateFailuresAreToldApartAndNameEndpointAndFix() {
        struct Fake: Error, CustomStringConvertible { var description: String }
        let untrusted = Fake(description: "handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED]))")
        let host = Fake(description: "NIOSSLExtraError.failedToValidateHostname: Couldn't find vault in certificate from peer")
        #expect(CertificateFailure(untrusted)?.reason == .untrustedOrExpired)
        #expect(CertificateFailure(host)?.reason == .wrongHostName)
        #expect(CertificateFailure(Fake(description: "connection refused")) == nil)
        let failure = CertificateFailure.failure(untrusted, service: "AWS ssm", endpoint: "127.0.0.1:5443",
                                                 fix: "set AWS_CA_BUNDLE or aws.ca_bundle to the CA's PEM file")
        #expect(failure?.exitCode == .unavailable)
        #expect(failure?.isTransient == false)
        #expect(failure?.message.contains("AWS ssm at 127.0.0.1:5443") == true)
        #expect(failure?.message.contains("untrusted issuer") == true)
        #expect(failure?.message.contains("AWS_CA_BUNDLE") == true)
        let wrongHost = CertificateFailure(host)!.message(service: "Vault", endpoint: "vault:8200", fix: "f", hostNameFix: "set VAULT_TLS_SERVER_NAME")
        #expect(wrongHost.contains("wrong host name") && wrongHost.contains("VAULT_TLS_SERVER_NAME"))
        #expect(CertificateFailure.endpoint(ofURL: "https://ssm.us-east-1.amazonaws.com/") == "ssm.us-east-1.amazonaws.com:443")
        #expect(CertificateFailure.endpoint(ofURL: "https://[::1]:8200") == "[::1]:8200")
    }

    @Test func theProxyAndCABundleKeysAreParsedAndChecked() throws {
        let yaml = "aws:\n  proxy: http://proxy.corp:3128\n  ca_bundle: certs/ca.pem\nvault:\n  address: http://v:8200\n  proxy: none\n"
        let c = try AgentConfig.parse(yaml: yaml, file: "/x/agent.yaml", environment: [:])
        #expect(c.aws.proxy == "http://proxy.corp:3128")
        #expect(c.aws.caBundle == "/x/certs/ca.pem")
        #expect(c.vault?.proxy == "none")
        #expect {
            _ = try AgentConfig.parse(yaml: "vault:\n  proxy: https://u:hunter2@p:1\n", file: "/x/agent.yaml", environment: [:])
        } throws: { error in
            let e = error as! AgentError
            return e.exitCode == .config && e.message.contains("vault.proxy") && !e.message.contains("hunter2")
        }
    }
}
