import Foundation
import TestSupport
import XCTest

/// `lockstep bench allreduce --verify` under the real mpirun at worlds 1 to 8: every
/// algorithm at sizes from 1 float to 3 MB, including element counts that the world size does
/// not divide (and counts smaller than the world), must equal the serial sum (bit-exact for
/// integer-valued floats, within a tolerance otherwise). One timed iteration keeps it cheap.
final class AllReduceCorrectnessTests: XCTestCase {
    /// Bytes: 1 float, 3 floats (fewer than most worlds), 256, 25,600 and 786,437 floats
    /// (786,437 is divisible by none of 2…8).
    static let sizes = [4, 12, 1024, 102_400, 3_145_748]
    static let algorithms = ["mpi", "ring", "rhd", "hierarchical", "auto"]

    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("allreduce")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs the benchmark with --verify at `world` ranks and checks every row.
    private func verify(world: Int, ranksPerNode: Int = 0, compression: String = "none",
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let json = "\(dir)/w\(world)-r\(ranksPerNode)-\(compression).json"
        var arguments = ["bench", "allreduce", "--verify", "--iterations", "1",
                         "--sizes", Self.sizes.map(String.init).joined(separator: ","),
                         "--algorithms", Self.algorithms.joined(separator: ","), "--json", json]
        if ranksPerNode > 0 { arguments += ["--ranks-per-node", String(ranksPerNode)] }
        if compression != "none" { arguments += ["--compression", compression] }
        let what = "bench allreduce at world \(world), ranks per node \(ranksPerNode), compression \(compression)"
        let result = Lockstep.mpirun(world, arguments, timeout: 120)
        XCTAssertEqual(result.status, 0, "\(what)\n\(result.output)", file: file, line: line)
        XCTAssertFalse(result.stdout.contains("WRONG"), "\(what): rows marked WRONG\n\(result.stdout)", file: file, line: line)

        guard let data = FileManager.default.contents(atPath: json) else {
            XCTFail("\(what): no JSON report at \(json)", file: file, line: line)
            return
        }
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], "\(what): \(json)",
                                   file: file, line: line)
        XCTAssertEqual((report["world"] as? NSNumber)?.intValue, world, "\(what): world", file: file, line: line)
        XCTAssertEqual(report["compression"] as? String, compression, "\(what): compression", file: file, line: line)
        if ranksPerNode > 0 {
            // The emulated nodes: ceil(p / R) of them.
            XCTAssertEqual((report["nodes"] as? NSNumber)?.intValue, (world + ranksPerNode - 1) / ranksPerNode,
                           "\(what): nodes", file: file, line: line)
        } else {
            XCTAssertEqual((report["nodes"] as? NSNumber)?.intValue, 1, "\(what): nodes on this one machine", file: file, line: line)
        }
        let rows = try XCTUnwrap(report["rows"] as? [[String: Any]], "\(what): rows", file: file, line: line)
        XCTAssertEqual(rows.count, Self.sizes.count * Self.algorithms.count, "\(what): one row per size and algorithm",
                       file: file, line: line)
        var seen = Set<String>()
        for row in rows {
            let algorithm = row["algorithm"] as? String ?? "?"
            let bytes = (row["bytes"] as? NSNumber)?.intValue ?? -1
            let count = (row["count"] as? NSNumber)?.intValue ?? -1
            seen.insert("\(algorithm)/\(bytes)")
            XCTAssertEqual(row["correct"] as? Bool, true, "\(what): \(algorithm) at \(bytes) bytes (\(count) floats) is not the serial sum",
                           file: file, line: line)
            XCTAssertEqual(count * 4, bytes, "\(what): \(algorithm) row's count and bytes", file: file, line: line)
            let ran = row["ran"] as? String ?? "?"
            if algorithm == "auto" {
                XCTAssertTrue(["mpi", "ring", "rhd", "hierarchical"].contains(ran), "\(what): auto ran \(ran)", file: file, line: line)
            } else {
                XCTAssertEqual(ran, algorithm, "\(what): ran", file: file, line: line)
            }
        }
        let expected = Set(Self.algorithms.flatMap { a in Self.sizes.map { "\(a)/\($0)" } })
        XCTAssertEqual(seen, expected, "\(what): algorithms and sizes covered", file: file, line: line)
    }

    func testWorld1() throws { try verify(world: 1) }
    func testWorld2() throws { try verify(world: 2) }
    func testWorld3() throws { try verify(world: 3) }
    func testWorld4() throws { try verify(world: 4) }
    func testWorld5() throws { try verify(world: 5) }
    func testWorld6() throws { try verify(world: 6) }
    func testWorld7() throws { try verify(world: 7) }
    func testWorld8() throws { try verify(world: 8) }

    /// Emulated nodes of 2 ranks: 5 ranks make nodes of 2, 2 and 1; 6 make three full nodes.
    func testTwoRanksPerNode() throws {
        try verify(world: 5, ranksPerNode: 2)
        try verify(world: 6, ranksPerNode: 2)
    }

    /// Emulated nodes of 3 ranks: 7 ranks make nodes of 3, 3 and 1; 8 make 3, 3 and 2.
    func testThreeRanksPerNode() throws {
        try verify(world: 7, ranksPerNode: 3)
        try verify(world: 8, ranksPerNode: 3)
    }

    /// fp16 on the wire, at a world size that is not a power of two.
    func testFP16Compression() throws { try verify(world: 5, compression: "fp16") }

    /// bf16 on the wire at the same world size. bf16 keeps 8 significant bits, so a ring of p
    /// ranks that rounds each partial sum it sends is correct to about p · 2⁻⁸ of the
    /// magnitudes; --verify must accept such a correctly rounded sum.
    func testBF16Compression() throws { try verify(world: 5, compression: "bf16") }
}
