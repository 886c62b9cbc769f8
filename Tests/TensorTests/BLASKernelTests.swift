import Tensor
import XCTest

/// When lockstep starts itself again with a better OpenBLAS kernel: only when the library fell
/// back to pre-AVX2 kernels on a CPU with AVX2 or AVX-512, and never over the user's choice.
final class BLASKernelTests: XCTestCase {
    static let emeraldRapids: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq",
                                             "avx512vl", "avx512_bf16", "amx_tile"]
    static let skylake: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
    static let haswell: Set<String> = ["sse3", "avx", "avx2", "fma"]

    func testAFallbackToPrescottIsUpgradedToTheBestKernelTheFlagsAllow() {
        XCTAssertEqual(BLASKernel.upgrade(current: "prescott", cpuFlags: Self.emeraldRapids, environment: [:]), "Cooperlake")
        XCTAssertEqual(BLASKernel.upgrade(current: "Prescott", cpuFlags: Self.skylake, environment: [:]), "SkylakeX")
        XCTAssertEqual(BLASKernel.upgrade(current: "nehalem", cpuFlags: Self.haswell, environment: [:]), "Haswell")
        XCTAssertEqual(BLASKernel.upgrade(current: "sandybridge", cpuFlags: Self.haswell, environment: [:]), "Haswell")
    }

    func testAKernelTheLibraryChoseForAKnownCPUIsKept() {
        for current in ["cooperlake", "skylakex", "haswell", "zen", "sapphirerapids"] {
            XCTAssertNil(BLASKernel.upgrade(current: current, cpuFlags: Self.emeraldRapids, environment: [:]), current)
        }
    }

    func testTheUsersOPENBLAS_CORETYPEIsNeverOverridden() {
        XCTAssertNil(BLASKernel.upgrade(current: "prescott", cpuFlags: Self.emeraldRapids,
                                        environment: ["OPENBLAS_CORETYPE": "Prescott"]))
    }

    func testNoUpgradeWithoutAVX2OrForAnUnknownKernelName() {
        XCTAssertNil(BLASKernel.upgrade(current: "prescott", cpuFlags: ["sse3", "avx"], environment: [:]))
        XCTAssertNil(BLASKernel.upgrade(current: "armv8", cpuFlags: Self.emeraldRapids, environment: [:]))
    }

    func testThisProcessNamesAKernel() {
        XCTAssertNotNil(BLASKernel.tier(BLASKernel.current), "openblas_get_corename() = \(BLASKernel.current)")
    }
}
