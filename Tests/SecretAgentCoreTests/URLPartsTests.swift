import SecretAgentCore
import Testing

/// The one split of http(s) URLs that the AWS endpoint, Vault's redirect rule and the proxy choice read.
@Suite("URL parts")
struct URLPartsTests {
    @Test("scheme, user information, host, port and the path with its query; the fragment dropped")
    func split() throws {
        let u = try #require(URLParts("HTTPS://user:pw@Vault.Example:8200/v1/x?list=true#frag"))
        #expect(u.scheme == "https" && u.userInfo == "user:pw" && u.authority == "Vault.Example:8200")
        #expect(u.host == "Vault.Example" && u.port == "8200" && u.tail == "/v1/x?list=true" && u.path == "/v1/x")
        let v6 = try #require(URLParts("http://[fd00:ec2::254]/latest"))
        #expect(v6.host == "[fd00:ec2::254]" && v6.port == nil && v6.defaultPort == 80 && v6.path == "/latest")
        let bare = try #require(URLParts("http://host?q=1"))
        #expect(bare.host == "host" && bare.tail == "?q=1" && bare.path == "/")
        let emptyPort = try #require(URLParts("https://host:"))
        #expect(emptyPort.port == "" && emptyPort.defaultPort == 443)
        // The last @ ends the user information: the host is what the client connects to.
        #expect(URLParts("http://a@b@evil.example/")?.host == "evil.example")
    }

    @Test("nil for another scheme, no ://, or a bracketed host not closed or followed by junk")
    func refused() {
        for bad in ["ftp://host/", "host:80", "http:/host", "http://[::1", "http://[::1]x/", "file:///etc/passwd"] {
            #expect(URLParts(bad) == nil, "\(bad)")
        }
    }
}
