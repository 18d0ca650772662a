import Foundation
import Testing
@testable import SecretAgentAWS

/// AWS's SigV4 test-suite vectors, and JSON 1.1 vectors made with botocore's SigV4Auth.
@Suite struct SigV4Tests {
    static let suiteCredentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", source: "test")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160) // 20150830T123600Z
    static let endpoint = Endpoint("https://example.amazonaws.com/")!

    func signature(_ headers: [(String, String)]) -> String? {
        guard let auth = headers.first(where: { $0.0 == "authorization" })?.1,
              let range = auth.range(of: "Signature=") else { return nil }
        return String(auth[range.upperBound...])
    }

    @Test func getVanilla() {
        let headers = SigV4.sign(method: "GET", endpoint: Self.endpoint, headers: [], body: [],
                                 credentials: Self.suiteCredentials, region: "us-east-1", service: "service", date: Self.suiteDate)
        #expect(signature(headers) == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(headers.contains { $0 == ("x-amz-date", "20150830T123600Z") })
        #expect(headers.contains { $0 == ("host", "example.amazonaws.com") })
    }

    @Test func postFormURLEncoded() {
        let headers = SigV4.sign(method: "POST", endpoint: Self.endpoint, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                 body: Array("Param1=value1".utf8), credentials: Self.suiteCredentials, region: "us-east-1",
                                 service: "service", date: Self.suiteDate)
        #expect(signature(headers) == "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    @Test func postSTSHeaderBefore() {
        var credentials = Self.suiteCredentials
        credentials.sessionToken = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        let headers = SigV4.sign(method: "POST", endpoint: Self.endpoint, headers: [], body: [], credentials: credentials,
                                 region: "us-east-1", service: "service", date: Self.suiteDate)
        #expect(signature(headers) == "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
        #expect(headers.first { $0.0 == "authorization" }?.1.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,") == true)
    }

    /// botocore 1.44.8: SigV4Auth(Credentials('AKIDEXAMPLE', <suite secret>, 'FQoGZXIvYXdzEXAMPLESESSIONTOKEN+/='),
    /// 'ssm', 'eu-west-1') on POST with Content-Type application/x-amz-json-1.1, X-Amz-Target
    /// AmazonSSM.GetParameter, the body below, at 2024-05-01T09:30:15Z.
    @Test(arguments: [
        ("https://ssm.eu-west-1.amazonaws.com/", "44f7e6b2882bc8326d730f27a8ab992b969888d38b94e10d108d92f484909915"),
        ("http://127.0.0.1:4566/", "1b9a3baefb20cdfd1d14e2aa38a16b956f14c6c61b89eef7fd475ec534aa2297"),
    ])
    func json11GetParameterWithSessionToken(url: String, expected: String) {
        var credentials = Self.suiteCredentials
        credentials.sessionToken = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN+/="
        let body = Array(#"{"Name":"/docker/registry/url","WithDecryption":true}"#.utf8)
        let headers = SigV4.sign(method: "POST", endpoint: Endpoint(url)!,
                                 headers: [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", "AmazonSSM.GetParameter")],
                                 body: body, credentials: credentials, region: "eu-west-1", service: "ssm",
                                 date: Date(timeIntervalSince1970: 1_714_555_815))
        #expect(signature(headers) == expected)
        let auth = headers.first { $0.0 == "authorization" }?.1 ?? ""
        #expect(auth.contains("Credential=AKIDEXAMPLE/20240501/eu-west-1/ssm/aws4_request"))
        #expect(auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"))
    }

    @Test func userAgentIsNeverSigned() {
        let headers = SigV4.sign(method: "POST", endpoint: Self.endpoint, headers: [("User-Agent", "x/1")], body: [],
                                 credentials: Self.suiteCredentials, region: "us-east-1", service: "service", date: Self.suiteDate)
        #expect(headers.first { $0.0 == "authorization" }?.1.contains("user-agent") == false)
    }

    @Test func hostHeaderKeepsOnlyNonDefaultPorts() {
        #expect(Endpoint("https://ssm.us-east-1.amazonaws.com:443/")!.hostHeader == "ssm.us-east-1.amazonaws.com")
        #expect(Endpoint("http://127.0.0.1:80")!.hostHeader == "127.0.0.1")
        #expect(Endpoint("http://127.0.0.1:4566")!.hostHeader == "127.0.0.1:4566")
        #expect(Endpoint("http://[::1]:8080/x")!.hostHeader == "[::1]:8080")
        #expect(Endpoint("http://[::1]:8080/x")!.path == "/x")
        #expect(Endpoint("ftp://x") == nil)
    }

    @Test func dates() {
        #expect(AWSDate.amzDate(Date(timeIntervalSince1970: 1_714_555_815)) == "20240501T093015Z")
        #expect(AWSDate.parse("2024-05-01T09:30:15Z") == Date(timeIntervalSince1970: 1_714_555_815))
        #expect(AWSDate.parse("2024-05-01T09:30:15.500Z") == Date(timeIntervalSince1970: 1_714_555_815.5))
        #expect(AWSDate.parse("2024-05-01T11:30:15+02:00") == Date(timeIntervalSince1970: 1_714_555_815))
        #expect(AWSDate.parse("1714555815") == Date(timeIntervalSince1970: 1_714_555_815))
        #expect(AWSDate.parse("yesterday") == nil)
    }
}
