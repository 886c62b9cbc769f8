import NN
import RunConfig
import XCTest

/// Config parsing through the API: defaults, overrides, layer tables, and the exact texts of
/// errors that the binary tests do not reach. Every message starts with where the value was set:
/// the file and line, or the `--set`.
final class ConfigTests: XCTestCase {
    private let minimal = minimalConfig

    private func parse(_ text: String, _ overrides: [String] = []) throws -> Config {
        try Config.parse(text, source: "c.toml", overrides: overrides)
    }

    private func expectError(_ text: String, _ overrides: [String] = [], _ message: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TrainingConfig(parse(text, overrides)), file: file, line: line) { error in
            XCTAssertEqual("\(error)", message, file: file, line: line)
        }
    }

    func testTensorGEMMChoice() throws {
        XCTAssertEqual(try TrainingConfig(parse(minimal)).tensor.gemm, .auto)
        XCTAssertEqual(try TrainingConfig(parse(minimal, ["tensor.gemm=onednn"])).tensor.gemm, .onednn)
        XCTAssertEqual(try TrainingConfig(parse(minimal + "\n[tensor]\ngemm = \"openblas\"\n")).tensor.gemm, .openblas)
        expectError(minimal, ["tensor.gemm=mkl"], #"--set tensor.gemm=mkl: tensor.gemm must be one of "auto", "openblas", "onednn", got "mkl""#)
    }

    func testDefaultsAndOverrides() throws {
        let c = try parse(minimal, ["train.batch=16", "optimizer.name=adamw", "optimizer.lr=1", "comm.bucket_mb=0.5"])
        XCTAssertEqual(c["train.batch"], .int(16))
        XCTAssertEqual(c["optimizer.name"], .string("adamw"))
        XCTAssertEqual(c["optimizer.lr"], .double(1), "an integer is accepted for a number")
        XCTAssertEqual(c["train.epochs"], .int(1), "defaults fill the rest")
        let settings = try TrainingConfig(c)
        XCTAssertEqual(settings.train.batch, 16)
        XCTAssertEqual(settings.comm.bucketMB, 0.5)
        XCTAssertEqual(settings.model.sequential?.layers.count, 2)
    }

    func testCanonicalTextIsOrderIndependent() throws {
        let a = try parse(minimal + "\n[train]\nbatch = 8\nseed = 3\n")
        let b = try parse(minimal + "\n[train]\nseed = 3\nbatch = 8\n")
        XCTAssertEqual(a.canonicalText, b.canonicalText)
        XCTAssertNotEqual(a.canonicalText, try parse(minimal + "\n[train]\nbatch = 9\n").canonicalText)
    }

    func testLayerTableErrors() {
        expectError(minimal.replacingOccurrences(of: #"{ type = "flatten" }"#, with: #"{ type = "flaten" }"#), [],
                    #"c.toml:3: model.layers[1]: unknown layer type "flaten" (did you mean flatten?)"#)
        expectError(minimal.replacingOccurrences(of: "in = 16, out = 3", with: "in = 16, outt = 3"), [],
                    "c.toml:3: model.layers[2]: unknown key outt for a linear layer (did you mean out?)")
        expectError(minimal.replacingOccurrences(of: "in = 16, out = 3", with: "in = 16"), [],
                    "c.toml:3: model.layers[2]: a linear layer needs out")
    }

    func testCrossKeyChecks() {
        expectError(minimal, ["data.classes=4"], "--set data.classes=4: the model ends in 3 scores but the data has 4 classes")
        expectError(minimal, ["optimizer.nesterov=true"], "--set optimizer.nesterov=true: optimizer.nesterov needs optimizer.momentum > 0, got 0.0")
        expectError(minimal, ["comm.compression=fp16", "comm.algorithm=mpi"],
                    #"--set comm.algorithm=mpi: comm.compression = "fp16" needs one of Lockstep's algorithms (ring, rhd, hierarchical or auto); MPI_Allreduce sums fp32 only"#)
        expectError(minimal, ["train.deterministic=true", "comm.compression=bf16"],
                    #"--set comm.compression=bf16: train.deterministic = true sums gradients exactly, so it refuses comm.compression = "bf16"; set comm.compression = "none""#)
        expectError(minimal, ["train.deterministic=true", "optimizer.sharded=true"],
                    "--set optimizer.sharded=true: train.deterministic = true sums whole gradient buffers exactly, so it refuses optimizer.sharded = true; set one of them false")
        expectError(minimal.replacingOccurrences(of: #"dataset = "synthetic""#, with: #"dataset = "fashion-mnist""#), [],
                    "c.toml:2: model.input is [1, 4, 4] but fashion-mnist images are [1, 28, 28]")
    }

    func testTensorConv() throws {
        XCTAssertEqual(try TrainingConfig(parse(minimal)).tensor.conv, .auto)
        XCTAssertEqual(try TrainingConfig(parse(minimal, ["tensor.conv=im2col"])).tensor.conv, .im2col)
        XCTAssertEqual(try TrainingConfig(parse(minimal + "\n[tensor]\nconv = \"onednn\"\n")).tensor.conv, .onednn)
        XCTAssertThrowsError(try parse(minimal, ["tensor.conv=mkldnn"])) {
            XCTAssertEqual("\($0)", #"--set tensor.conv=mkldnn: tensor.conv must be one of "auto", "im2col", "onednn", got "mkldnn""#)
        }
    }

    func testMissingRequiredKey() {
        XCTAssertThrowsError(try parse("[data]\ndataset = \"synthetic\"\n")) { XCTAssertEqual("\($0)", "c.toml: model.layers is required") }
        XCTAssertThrowsError(try TrainingConfig(parse("[model]\nlayers = [{ type = \"flatten\" }]\n[data]\ndataset = \"synthetic\"\n"))) {
            XCTAssertEqual("\($0)", "c.toml: model.input is required")
        }
    }

    func testGPTKeys() throws {
        let gpt = "[model]\ntype = \"gpt\"\nlayers = 2\nheads = 2\nembed = 16\ncontext = 8\n[data]\ndataset = \"text\"\npath = \"t.txt\"\n"
        let settings = try TrainingConfig(parse(gpt))
        XCTAssertEqual(settings.model, .gpt(GPTConfig(vocab: 256, context: 8, layers: 2, heads: 2, embed: 16)))
        expectError(gpt, ["model.embed=15"], "--set model.embed=15: model.embed = 15 is not a multiple of model.heads = 2")
        expectError(gpt, ["model.vocab=100"],
                    #"--set model.vocab=100: model.vocab = 100 is too small for data.dataset = "text", whose tokens are bytes: set model.vocab = 256"#)
        expectError(gpt, ["data.dataset=\"synthetic\""],
                    #"--set data.dataset="synthetic": a GPT trains on tokens: data.dataset must be "text" or "tokens", got "synthetic""#)
        expectError(minimal, ["data.dataset=\"tokens\""],
                    #"--set data.dataset="tokens": data.dataset = "tokens" is token windows for model.type = "gpt"; a sequential model trains on images"#)
        expectError(gpt, ["model.layers=0"], "--set model.layers=0: model.layers must be positive, got 0")
    }
}
