import Foundation
import TestSupport
import XCTest

/// 128 ranks of Configs/tiny.toml on this machine's 2 cores (`--oversubscribe`): the
/// algorithms meant for 100+ ranks must start, train and finish, and learn. Per-rank batch 4
/// gives each of the 128 ranks 8 steps per epoch of the 4096 synthetic training images; 32
/// steps of global batch 512 take a single process from chance (25%) to about 99%.
final class ScaleTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = Lockstep.temporaryDirectory("scale")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func run128(_ comm: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let what = "128 ranks, \(comm.joined(separator: " "))"
        let result = Lockstep.mpirun(128, Tiny.train(["train.steps=32", "train.batch=4"] + comm,
                                                     ["--summary", dir + "/summary.json"]), timeout: 400)
        print("ScaleTests: \(what): \(String(format: "%.1f", result.seconds)) s from mpirun to exit")
        assertSucceeded(result, what, file: file, line: line)
        guard result.status == 0 else { return }
        let summary = try Summary(dir + "/summary.json")
        print("ScaleTests: \(what): wall_s \(summary.double("wall_s") ?? -1), train_s \(summary.double("train_s") ?? -1) (rank 0)")
        XCTAssertEqual(summary.int("world"), 128, what, file: file, line: line)
        XCTAssertEqual(summary.int("steps"), 32, what, file: file, line: line)
        XCTAssertEqual(summary.int("global_batch"), 512, what, file: file, line: line)
        // 4 classes: chance is 25%.
        let accuracy = try XCTUnwrap(summary.double("test_accuracy"), what, file: file, line: line)
        XCTAssertGreaterThan(accuracy, 0.5, "\(what): test accuracy \(accuracy) is not above chance (0.25)", file: file, line: line)
    }

    func testRecursiveHalvingDoubling() throws {
        try run128(["comm.algorithm=rhd"])
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.string("algorithm"), "rhd")
    }

    func testHierarchicalEightRanksPerNode() throws {
        try run128(["comm.algorithm=hierarchical", "comm.ranks_per_node=8"])
        let summary = try Summary(dir + "/summary.json")
        XCTAssertEqual(summary.string("algorithm"), "hierarchical")
        XCTAssertEqual(summary.int("nodes"), 16, "128 ranks in emulated nodes of 8")
    }
}
