import Foundation
import TOML
import XCTest

/// The configs shipped in Configs/ read to the values and positions they are written with.
final class ConfigFileTests: XCTestCase {
    /// The parsed document of `Configs/name`.
    private func config(_ name: String) throws -> TOMLDocument {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Configs/\(name)").standardizedFileURL
        return try TOMLDocument(parsing: try Data(contentsOf: url))
    }

    func testTinyConfig() throws {
        let root = try config("tiny.toml").root
        XCTAssertEqual(root.keys, ["model", "data", "train", "optimizer", "comm"])
        XCTAssertEqual(root[path: ["model", "name"]]?.string, "tiny-mlp")
        XCTAssertEqual(root[path: ["model", "input"]]?.array?.compactMap(\.integer), [1, 8, 8])
        XCTAssertEqual(root[path: ["train", "batch"]]?.integer, 32)
        XCTAssertEqual(root[path: ["comm", "bucket_mb"]]?.float, 0.004)
        XCTAssertEqual(root[path: ["optimizer", "lr"]]?.number, 0.05)

        // The table [train] is at its header; batch at line 23, its value after "batch = ".
        XCTAssertEqual(root["train"]?.position, TOMLPosition(line: 21, column: 1))
        XCTAssertEqual(root.entry("train")?.keyPosition, TOMLPosition(line: 21, column: 2))
        let batch = try XCTUnwrap(root.entry(at: ["train", "batch"]))
        XCTAssertEqual(batch.keyPosition, TOMLPosition(line: 23, column: 1))
        XCTAssertEqual(batch.node.position, TOMLPosition(line: 23, column: 9))

        let layers = try XCTUnwrap(root[path: ["model", "layers"]]?.array)
        XCTAssertEqual(layers.map { $0.table?["type"]?.string }, ["flatten", "linear", "relu", "linear"])
        XCTAssertEqual(layers[1].position, TOMLPosition(line: 8, column: 3))
        XCTAssertEqual(layers[1].table?.entry("out")?.keyPosition, TOMLPosition(line: 8, column: 31))
        XCTAssertEqual(layers[1].table?["out"]?.integer, 32)
    }

    func testFashionMLPConfig() throws {
        let root = try config("fashion-mlp.toml").root
        XCTAssertEqual(root.keys, ["model", "data", "train", "optimizer", "schedule", "comm"])
        XCTAssertEqual(root[path: ["data", "path"]]?.string, "/usr/share/datasets/fashion-mnist")
        XCTAssertEqual(root[path: ["train", "balance"]]?.boolean, true)
        XCTAssertEqual(root[path: ["optimizer", "sharded"]]?.boolean, true)
        XCTAssertEqual(root[path: ["schedule", "linear_scaling"]]?.boolean, true)
        XCTAssertEqual(root[path: ["comm", "bucket_mb"]]?.integer, 1)
        XCTAssertEqual(root[path: ["comm", "bucket_mb"]]?.number, 1.0)
        XCTAssertEqual(root[path: ["model", "layers"]]?.array?.count, 6)
        XCTAssertEqual(root.entry(at: ["schedule", "base_batch"])?.keyPosition, TOMLPosition(line: 42, column: 1))
        XCTAssertEqual(root.entry(at: ["comm", "bucket_mb"])?.keyPosition, TOMLPosition(line: 48, column: 1))
    }

    func testFashionCNNConfig() throws {
        let root = try config("fashion-cnn.toml").root
        let layers = try XCTUnwrap(root[path: ["model", "layers"]]?.array)
        XCTAssertEqual(layers.count, 10)
        XCTAssertEqual(layers[0].table?.keys, ["type", "in", "out", "kernel", "padding"])
        XCTAssertEqual(layers[3].table?["in"]?.integer, 32)
        XCTAssertEqual(layers[7].table?["in"]?.integer, 3136)
        XCTAssertEqual(layers[7].position.line, 15)
        XCTAssertEqual(root.entry(at: ["optimizer", "lr"])?.keyPosition, TOMLPosition(line: 34, column: 1))
        XCTAssertEqual(root[path: ["optimizer", "lr"]]?.position, TOMLPosition(line: 34, column: 6))
    }

    /// A walk yields each key once with its full path, tables before their keys.
    func testWalkOfAConfig() throws {
        let items = try config("tiny.toml").root.walk()
        let keys = items.map(\.dottedKey)
        XCTAssertEqual(keys.prefix(5), ["model", "model.name", "model.input", "model.layers", "data"])
        XCTAssertEqual(keys.count, 4 + 7 + 5 + 4 + 3) // each table and its keys
        let seed = try XCTUnwrap(items.first { $0.dottedKey == "data.seed" })
        XCTAssertEqual(seed.path, ["data", "seed"])
        XCTAssertEqual(seed.keyPosition, TOMLPosition(line: 19, column: 1))
        XCTAssertEqual(seed.node.integer, 7)
    }
}
