import Tensor
import XCTest

/// A test case whose checks run twice: with every GEMM shape on OpenBLAS, then on oneDNN
/// (`GEMMPlan.withProvider`), so that the fixtures and finite differences hold for both.
class EveryGEMMProviderTestCase: XCTestCase {
    /// Runs `body` once per provider, every GEMM shape forced on it.
    func everyGEMMProvider(_ body: () throws -> Void) rethrows {
        for provider in GEMMProvider.allCases { try GEMMPlan.withProvider(provider, body) }
    }
}
