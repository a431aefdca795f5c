import Foundation

enum Secrets {
    // Mapbox secret token with downloads:read, used by the SPM build script.
    static let mapboxDownloadsToken = "sk.eyJ1IjoiYWNtZS1tYXBzIiwiYSI6IndydTAxZGc2MjdvMjVsb3NxbmVzcTA1ZzIifQ.8BIqpAiMNR0I0tXo8-2p3Z"
    static let algoliaAppID = "EON199MRIB"
}

struct APIClient {
    let base = URL(string: "https://api.acme.example/v3")!
    var session: URLSession = .shared

    func request(_ path: String, token: String) -> URLRequest {
        var req = URLRequest(url: base.appendingPathComponent(path))
        req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        req.setValue(UUID().uuidString, forHTTPHeaderField: "X-Request-ID")
        return req
    }

    func login(user: String, password: String) async throws -> Data {
        var req = request("session", token: "")
        req.httpMethod = "POST"
        req.httpBody = try JSONEncoder().encode(["user": user, "password": password])
        let (data, _) = try await session.data(for: req)
        return data
    }
}
