import Foundation
import Interop
import XCTest

final class LayoutRulesTests: XCTestCase {
    func testTransposeAndConvKernel() {
        XCTAssertEqual(LayoutRules.transpose([1, 2, 3, 4, 5, 6], rows: 2, cols: 3), [1, 4, 2, 5, 3, 6])
        // W[o, c, i, j] = 1000o + 100c + 10i + j, for out 2, in 3, kernel 2.
        let (out, inC, k) = (2, 3, 2)
        var w: [Float] = []
        for o in 0..<out { for c in 0..<inC { for i in 0..<k { for j in 0..<k { w.append(Float(1000 * o + 100 * c + 10 * i + j)) } } } }
        let hwio = LayoutRules.convToHWIO(w, out: out, in: inC, kernel: k)
        for i in 0..<k { for j in 0..<k { for c in 0..<inC { for o in 0..<out {
            XCTAssertEqual(hwio[((i * k + j) * inC + c) * out + o], Float(1000 * o + 100 * c + 10 * i + j))
        } } } }
    }

    /// A Dense over a channels-last flatten with the permuted kernel computes what the Linear
    /// computes over a (c, h, w) flatten of the same image.
    func testChannelsLastKernelGivesTheSameOutputs() {
        let (c, h, w, out) = (3, 2, 4, 5)
        let features = c * h * w
        let weight = (0..<(out * features)).map { Float(($0 * 37) % 101) / 7 }
        let image = (0..<features).map { Float(($0 * 13) % 29) / 5 }  // (c, h, w)
        var channelsLast = [Float](repeating: 0, count: features)    // (h, w, c)
        for ci in 0..<c { for hi in 0..<h { for wi in 0..<w { channelsLast[(hi * w + wi) * c + ci] = image[(ci * h + hi) * w + wi] } } }
        let kernel = LayoutRules.channelsLastKernel(weight, out: out, channels: c, height: h, width: w)
        for o in 0..<out {
            let linear = (0..<features).reduce(Float(0)) { $0 + weight[o * features + $1] * image[$1] }
            let dense = (0..<features).reduce(Float(0)) { $0 + kernel[$1 * out + o] * channelsLast[$1] }
            XCTAssertEqual(dense, linear, accuracy: 1e-3 * abs(linear))
        }
    }
}

final class WeightImportTests: XCTestCase {
    private var dir = ""
    override func setUp() {
        dir = NSTemporaryDirectory() + "interop-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private let layout: [(name: String, shape: [Int])] = [("transformer.wte.weight", [4, 2]), ("bias", [2])]

    private func file(_ tensors: [(String, [Int], TensorFileWriter.Values)], metadata: [String: String] = [:]) throws -> TensorFile {
        let path = dir + "/w.safetensors"
        try TensorFileWriter.write(tensors.map { (name: $0.0, shape: $0.1, values: $0.2) }, metadata: metadata, to: path)
        return try TensorFile(path: path)
    }

    func testImportsInLayoutOrderWhateverTheFileOrder() throws {
        let wte: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        let f = try file([("bias", [2], .f32([9, 10])), ("transformer.wte.weight", [4, 2], .f32(wte))])
        XCTAssertEqual(try WeightImport.load(f, layout: layout).values, wte + [9, 10])
    }

    func testTiedHeadMustEqualTheEmbedding() throws {
        let wte: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        let tied = try file([("transformer.wte.weight", [4, 2], .f32(wte)), ("bias", [2], .f32([0, 0])), ("lm_head.weight", [4, 2], .f32(wte))])
        let imported = try WeightImport.load(tied, layout: layout, tied: [.gptHead])
        XCTAssertEqual(imported.notes.count, 1)
        var other = wte
        other[3] = 0
        let untied = try file([("transformer.wte.weight", [4, 2], .f32(wte)), ("bias", [2], .f32([0, 0])), ("lm_head.weight", [4, 2], .f32(other))])
        XCTAssertThrowsError(try WeightImport.load(untied, layout: layout, tied: [.gptHead])) { error in
            XCTAssertEqual("\(error)", "train.init_from: \(self.dir)/w.safetensors: lm_head.weight differs from transformer.wte.weight; Lockstep's model ties the two, so they must be equal")
        }
        XCTAssertThrowsError(try WeightImport.load(tied, layout: layout), "without the tie it is an extra tensor")
    }

    func testALockstepCheckpointsOptimizerStateIsSetAside() throws {
        let f = try file([("transformer.wte.weight", [4, 2], .f32(Array(repeating: 1, count: 8))), ("bias", [2], .f32([0, 0])),
                          ("optim.momentum.bias", [2], .f32([3, 3]))], metadata: ["format": "lockstep.checkpoint.v1"])
        XCTAssertEqual(try WeightImport.load(f, layout: layout).notes.count, 1)
    }

    func testMalformedFilesNameTheProblem() throws {
        let path = dir + "/bad.safetensors"
        try Data([1, 0, 0, 0, 0, 0, 0, 0, 0x7B]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try TensorFile(path: path)) { error in
            XCTAssertEqual("\(error)", "\(path): not a safetensors file (the header is not a JSON object)")
        }
        let i32 = try file([("x", [2], .i32([1, 2]))])
        XCTAssertEqual(i32["x"]?.dtype, "I32")
        XCTAssertEqual(i32.data, [1, 0, 0, 0, 2, 0, 0, 0])
    }
}
