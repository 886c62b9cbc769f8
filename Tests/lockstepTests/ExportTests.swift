import Foundation
import TestSupport
import XCTest

/// Lockstep's models, exported (`lockstep export --reference`), rebuilt and run inside PyTorch,
/// Keras on TensorFlow, JAX and numpy: the same test-set accuracy as Lockstep's and the logits
/// of the first 256 test images within 1e-4 relative (|a - e| ≤ 1e-4·max(|e|, 1)); a trained
/// GPT, in the same four, its validation loss within 1e-4 and the same 50 greedy tokens as
/// `lockstep generate --temperature 0`.
final class ExportTests: XCTestCase {
    private var dir = ""
    static let fashion = "/usr/share/datasets/fashion-mnist"

    override func setUp() { dir = Lockstep.temporaryDirectory("export") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Trains `config` at world 2 with `settings`, exports it to every format in `formats`,
    /// and returns Lockstep's summary.
    private func trainAndExport(_ config: String, _ settings: [String], formats: [String]) throws -> Summary {
        let train = Lockstep.mpirun(2, ["train", "--config", Lockstep.path(config), "--quiet", "--summary", dir + "/summary.json"]
                                    + (settings + ["checkpoint.dir=\(dir)/ckpt"]).flatMap { ["--set", $0] }, timeout: 600)
        assertSucceeded(train, "training \(config)")
        for format in formats {
            let export = Lockstep.run(["export", "--checkpoint", dir + "/ckpt", "--format", format, "--out", "\(dir)/\(format)",
                                       "--reference"], timeout: 300)
            assertSucceeded(export, "export --format \(format)")
        }
        return try Summary(dir + "/summary.json")
    }

    private func checkClassifier(_ label: String, _ config: String, _ settings: [String]) throws {
        try InteropPython.requireVenv()
        let formats = ["torch", "keras", "jax", "numpy"]
        let summary = try trainAndExport(config, settings, formats: formats)
        let accuracy = try XCTUnwrap(summary.double("test_accuracy"))
        let lockstepCorrect = Int((accuracy * 10_000).rounded())
        XCTAssertGreaterThan(accuracy, 0.7, "\(label) has learned")
        for format in formats {
            let r = try InteropPython.run("check_export.py", ["\(dir)/\(format)", "--framework", format, "--data", Self.fashion],
                                          framework: format)
            let correct = (r["correct"] as? Int) ?? -1
            let relative = (r["max_rel_diff"] as? Double) ?? .nan, absolute = (r["max_abs_diff"] as? Double) ?? .nan
            print("interop: \(label) \(format): accuracy \(correct)/\(r["count"] ?? "?") (Lockstep \(lockstepCorrect)/10000), largest logit difference \(absolute) (relative \(relative)), inputs \(r["inputs_max_diff"] ?? "?")")
            XCTAssertEqual(r["count"] as? Int, 10_000, "\(label) \(format)")
            XCTAssertEqual(correct, lockstepCorrect, "\(label) \(format): test-set accuracy")
            XCTAssertEqual(r["examples"] as? Int, 256, "\(label) \(format)")
            XCTAssertLessThanOrEqual(relative, 1e-4, "\(label) \(format): logits of the first 256 test images")
            XCTAssertEqual((r["inputs_max_diff"] as? Double) ?? .nan, 0, accuracy: 1e-7, "\(label) \(format): preprocessing")
        }
    }

    func testFashionMLPInEveryFramework() throws {
        try checkClassifier("MLP", "Configs/fashion-mlp.toml", [])
    }

    func testFashionCNNInEveryFramework() throws {
        try checkClassifier("CNN", "Configs/fashion-cnn.toml", ["train.steps=150"])
    }

    func testTrainedGPTInEveryFramework() throws {
        try InteropPython.requireVenv()
        TinyGPT.writeText(to: dir + "/text.txt")
        let train = Lockstep.mpirun(2, TinyGPT.train(text: dir + "/text.txt", ["train.steps=60", "train.batch=8", "checkpoint.dir=\(dir)/ckpt"],
                                                     ["--summary", dir + "/summary.json"]), timeout: 300)
        assertSucceeded(train, "training")
        let lockstepLoss = try XCTUnwrap(try Summary(dir + "/summary.json").double("val_loss"))
        XCTAssertLessThan(lockstepLoss, log(256.0) - 1, "the model has learned")
        // Lockstep's own greedy continuation: lockstep generate at temperature 0 (a key-value
        // cache), whose output for a text model is the prompt's bytes and the new ones.
        let prompt = "In the beginning"
        let generated = runProcess("/bin/sh", ["-c", "exec \"$0\" generate --checkpoint \"$1\" --prompt \"$2\" --tokens 50 --temperature 0 > \"$3\"",
                                               Lockstep.binary, dir + "/ckpt", prompt, dir + "/generated.bin"],
                                   environment: Lockstep.environment, timeout: 120)
        assertSucceeded(generated, "lockstep generate")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/generated.bin")))
        XCTAssertEqual(Array(bytes.prefix(prompt.utf8.count)), Array(prompt.utf8), "generate writes the prompt first")
        let lockstepGreedy = bytes.dropFirst(prompt.utf8.count).map(Int.init)
        XCTAssertEqual(lockstepGreedy.count, 50)
        var continuations: [String: [Int]] = [:]
        for format in ["torch", "keras", "jax", "numpy"] {
            let export = Lockstep.run(["export", "--checkpoint", dir + "/ckpt", "--format", format, "--out", "\(dir)/\(format)",
                                       "--reference", "--prompt", prompt, "--tokens", "50"], timeout: 300)
            assertSucceeded(export, "export --format \(format)")
            let r = try InteropPython.run("check_gpt_export.py", ["\(dir)/\(format)", "--framework", format], framework: format)
            let loss = (r["val_loss"] as? Double) ?? .nan
            print("interop: GPT \(format): val loss \(loss) (Lockstep \(lockstepLoss)), greedy equal \(r["greedy_equal"] ?? "?"), largest logit difference \(r["max_abs_diff"] ?? "?") (relative \(r["max_rel_diff"] ?? "?"))")
            XCTAssertEqual(r["windows"] as? Int, 16, "\(format): data.val_windows of Configs/tiny-gpt.toml")
            XCTAssertEqual(loss, lockstepLoss, accuracy: 1e-4 * lockstepLoss, "\(format): validation loss")
            XCTAssertEqual(r["greedy_equal"] as? Bool, true, "\(format): 50 greedy tokens as the export's reference (Lockstep's whole forward passes)\n\(r)")
            XCTAssertEqual(r["greedy"] as? [Int], lockstepGreedy, "\(format): 50 greedy tokens as lockstep generate's")
            XCTAssertLessThanOrEqual((r["max_rel_diff"] as? Double) ?? .nan, 1e-4, "\(format): logits at the prompt")
            continuations[format] = r["greedy"] as? [Int]
        }
        XCTAssertEqual(continuations["torch"]?.count, 50)
        XCTAssertEqual(continuations["torch"], continuations["numpy"], "PyTorch and numpy decode alike")
        XCTAssertEqual(continuations["jax"], continuations["numpy"], "JAX and numpy decode alike")
        XCTAssertEqual(continuations["keras"], continuations["numpy"], "Keras and numpy decode alike")

        // The PyTorch export is a tied state_dict: train.init_from takes it, lm_head.weight and all.
        let again = Lockstep.run(TinyGPT.train(text: dir + "/text.txt", ["train.steps=1", "train.init_from=\(dir)/torch/model.safetensors"]),
                                 timeout: 120)
        assertSucceeded(again, "init_from the PyTorch export")
        XCTAssertTrue(again.stderr.contains("lm_head.weight equals transformer.wte.weight"), again.output)
    }
}
