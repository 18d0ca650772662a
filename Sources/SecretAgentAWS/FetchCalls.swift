import SecretTemplate

/// The calls the AWS providers make to fetch a set of locators once — at start, before the
/// child runs — by API, following the providers' own batching: SSM `GetParameters` 10 names a
/// call (two selectors of one parameter never share a call) per region, one
/// `GetParametersByPath` per path (one page assumed); Secrets Manager `BatchGetSecretValue` 20
/// AWSCURRENT secrets a call per region, `GetSecretValue` for a lone one and for each pinned
/// version or stage. `plan --replicas` multiplies it by the fleet.
public enum FetchCalls {
    /// Calls by API name for fetching `locators` once; credential calls (STS, IMDS) not counted.
    public static func count(_ locators: [Locator]) -> [String: Int] {
        var ssm: [String: [Locator]] = [:], paths = 0
        var current: [String: Int] = [:], singles = 0
        for locator in Set(locators) {
            let region = (try? ARN.region(of: locator)) ?? ""
            switch locator {
            case .ssm:
                ssm[region, default: []].append(locator)
            case .ssmPath:
                paths += 1
            case .secretsManager(_, let stage, let versionID):
                if versionID == nil && (stage == nil || stage == "AWSCURRENT") {
                    current[region, default: 0] += 1
                } else {
                    singles += 1
                }
            default:
                continue
            }
        }
        var calls: [String: Int] = [:]
        let getParameters = ssm.values.reduce(0) { $0 + SSMProvider.batches($1).count }
        if getParameters > 0 { calls["GetParameters"] = getParameters }
        if paths > 0 { calls["GetParametersByPath"] = paths }
        var batches = 0
        for count in current.values {
            batches += count / SecretsManagerProvider.batchSize
            switch count % SecretsManagerProvider.batchSize {
            case 0: break
            case 1: singles += 1
            default: batches += 1
            }
        }
        if batches > 0 { calls["BatchGetSecretValue"] = batches }
        if singles > 0 { calls["GetSecretValue"] = singles }
        return calls
    }
}
