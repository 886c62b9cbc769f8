import Foundation
import TestSupport
import XCTest

/// train.init_from: weights made elsewhere start a run. A PyTorch-initialised MLP saved with
/// safetensors.torch.save_file, trained one step by Lockstep, ends within 1e-4 of the same SGD
/// step in PyTorch; a file that does not fit the model is refused with a message naming the
/// tensor and the shapes, and exit 2.
final class InitFromTests: XCTestCase {
    private var dir = ""

    override func setUp() { dir = Lockstep.temporaryDirectory("init-from") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testPyTorchInitialisedMLPTakesTheSameStepAsPyTorch() throws {
        try InteropPython.requireVenv()
        let made = try InteropPython.run("import_check.py", ["make", dir + "/init.safetensors", "--seed", "1"], framework: "torch")
        XCTAssertEqual(made["tensors"] as? [String], ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"])
        // Configs/fashion-mlp.toml at world 2 with its node-shared parameters, one step on the
        // first 256 training images in order; a constant rate of 0.05; SGD with momentum 0.9,
        // whose first step is plain SGD when its state starts fresh.
        let settings = ["train.steps=1", "train.shuffle=false", "train.balance=false", "schedule.name=constant",
                        "schedule.linear_scaling=false", "train.init_from=\(dir)/init.safetensors", "checkpoint.dir=\(dir)/ckpt"]
        let train = Lockstep.mpirun(2, ["train", "--config", Lockstep.path("Configs/fashion-mlp.toml")] + settings.flatMap { ["--set", $0] },
                                    timeout: 300)
        assertSucceeded(train, "one step from the PyTorch weights")
        XCTAssertTrue(train.stderr.contains("starting from the weights of \(dir)/init.safetensors (train.init_from), with a fresh optimizer at step 0"), train.output)
        let r = try InteropPython.run("import_check.py", ["compare", dir + "/init.safetensors", "\(dir)/ckpt/\(checkpointName(step: 1))",
                                                          "--data", "/usr/share/datasets/fashion-mnist", "--batch", "256", "--lr", "0.05",
                                                          "--momentum", "0.9"], framework: "torch")
        print("interop: import: \(r)")
        XCTAssertEqual(r["step"] as? Int, 1, "the run started at step 0")
        XCTAssertEqual(r["optimizer_steps"] as? Int, 1, "the optimizer started fresh")
        XCTAssertLessThanOrEqual((r["max_rel_diff"] as? Double) ?? .nan, 1e-4, "Lockstep's step against PyTorch's\n\(r)")
        XCTAssertGreaterThan((r["largest_change"] as? Double) ?? 0, 1e-4, "the step moved the weights, by far more than the difference")
    }

    /// Configs/tiny.toml's MLP: fc1 [32, 64], fc2 [4, 32].
    private let tiny: [ForeignFile.Tensor] = [.init(name: "fc1.weight", shape: [32, 64]), .init(name: "fc1.bias", shape: [32]),
                                             .init(name: "fc2.weight", shape: [4, 32]), .init(name: "fc2.bias", shape: [4])]

    private func importing(_ tensors: [ForeignFile.Tensor], _ name: String) throws -> ProcessResult {
        let path = "\(dir)/\(name).safetensors"
        try ForeignFile.write(tensors, to: path)
        return Lockstep.mpirun(2, Tiny.train(["train.steps=2", "train.init_from=\(path)"]), timeout: 120)
    }

    func testBadImportsNameTheTensorAndExitWithTwo() throws {
        var shape = tiny
        shape[0].shape = [32, 63]
        var dtype = tiny
        dtype[0].dtype = "F16"
        let cases: [(String, [ForeignFile.Tensor], String)] = [
            ("shape", shape, "fc1.weight has shape [32, 63]; the model expects [32, 64]"),
            ("missing", Array(tiny.dropLast()), "no tensor fc2.bias; the model expects fc2.bias with shape [4]"),
            ("extra", tiny + [.init(name: "fc3.weight", shape: [4, 4])],
             "holds fc3.weight with shape [4, 4], which the model does not have (its tensors: fc1.weight, fc1.bias, fc2.weight, fc2.bias)"),
            ("dtype", dtype, "fc1.weight is F16; Lockstep reads F32 only (in PyTorch, save model.float().state_dict())"),
        ]
        for (name, tensors, message) in cases {
            let result = try importing(tensors, name)
            let expected = "lockstep: error: config: train.init_from: \(dir)/\(name).safetensors: \(message)"
            assertFailed(result, code: 2, contains: [expected], name)
            XCTAssertEqual(errorLines(result), [expected], "\(name): one line, from rank 0")
        }
        let missing = Lockstep.run(Tiny.train(["train.init_from=\(dir)/none.safetensors"]), timeout: 60)
        assertFailed(missing, code: 2, contains: ["lockstep: error: config: train.init_from: \(dir)/none.safetensors: no such file"])
    }

    func testAGoodFileStartsTheRunFromItsWeights() throws {
        // Zero weights and biases: every logit is 0, so the first loss is ln 4 exactly.
        let result = try importing(tiny, "zeros")
        assertSucceeded(result)
        let quietless = Lockstep.run(Tiny.train(["train.steps=1", "train.log_every=1", "train.init_from=\(dir)/zeros.safetensors"], quiet: false),
                                     timeout: 60)
        assertSucceeded(quietless)
        XCTAssertTrue(quietless.stdout.contains("loss \(String(format: "%.4f", log(4.0)))"), quietless.output)
    }
}
