import RunConfig
import XCTest

/// The start-up checks of a config against the world and the machine (`checkResources`): the
/// global batch in 64 bits, and the buffers a rank allocates against its memory, with the keys
/// of the largest buffer named at their origin.
final class ResourceCheckTests: XCTestCase {
    private let gpt = """
    [model]
    type = "gpt"
    vocab = 50257
    context = 1024
    layers = 12
    heads = 12
    embed = 768
    [data]
    dataset = "tokens"
    path = "t.bin"
    [train]
    batch = 8
    [optimizer]
    name = "adamw"
    """

    private func settings(_ text: String, _ overrides: [String] = []) throws -> TrainingConfig {
        try TrainingConfig(Config.parse(text, source: "c.toml", overrides: overrides))
    }

    private func check(_ s: TrainingConfig, world: Int = 1, maxBatch: Int? = nil, memory: Double) -> String? {
        switch Result(catching: { () throws(ConfigError) in
            try s.checkResources(world: world, maxBatch: maxBatch ?? s.train.batch, memoryBytes: memory)
        }) {
        case .success: nil
        case let .failure(error): error.description
        }
    }

    /// GPT-2 small at batch 8: 124M parameters with AdamW, logits of 8 × 1024 × 50257, and each
    /// block's attention probabilities, 8 × 12 × 1024².
    func testGPT2SmallFitsInSixteenGigabytes() throws {
        let s = try settings(gpt)
        let parts = s.memoryParts(maxBatch: 8)
        XCTAssertEqual(parts.map(\.what), ["the parameters, their gradients and the optimizer's state", "the logits and their gradients",
                                           "the activations", "the attention probabilities"])
        XCTAssertEqual(parts[0].formula, "4 × 124439808 parameters")
        XCTAssertEqual(parts[1].bytes, 2 * 8 * 1024 * 50257 * 4)
        XCTAssertNil(check(s, memory: 16e9))
        XCTAssertEqual(check(s, memory: 4e9),
                       "c.toml:12: the run's buffers need 15.6 GB per rank, but this machine's memory leaves 4.0 GB; the largest, the attention probabilities (train.batch × model.heads × model.context² × (model.layers + 1) = 8 × 12 × 1024² × 13), take 5.2 GB")
    }

    func testTheLargestBufferNamesItsKeysOrigin() throws {
        let s = try settings(gpt, ["model.context=65536"])
        XCTAssertEqual(check(s, memory: 1e12),
                       "--set model.context=65536: the run's buffers need 16.7 TB per rank, but this machine's memory leaves 1.0 TB; the largest, the attention probabilities (train.batch × model.heads × model.context² × (model.layers + 1) = 8 × 12 × 65536² × 13), take 21.4 TB"
                           .replacingOccurrences(of: "16.7 TB", with: Self.total(s, 8)))
        let big = try settings(gpt, ["train.batch=1048576", "model.vocab=2147483648", "model.context=1048576", "model.embed=1048572"])
        XCTAssertNotNil(check(big, memory: 1e15), "sizes whose product overflows Int are compared as Doubles")
    }

    func testSyntheticImagesCount() throws {
        let tiny = "[model]\ninput = [1, 8, 8]\nlayers = [{type = \"flatten\"}, {type = \"linear\", in = 64, out = 4}]\n[data]\ndataset = \"synthetic\"\nclasses = 4\n"
        XCTAssertNil(check(try settings(tiny), memory: 1e9))
        XCTAssertEqual(check(try settings(tiny, ["data.train_count=2000000000"]), memory: 25e9),
                       "--set data.train_count=2000000000: the run's buffers need 128.0 GB per rank, but this machine's memory leaves 25.0 GB; the largest, the synthetic images ((data.train_count + data.test_count) × 64 bytes), take 128.0 GB")
    }

    func testGlobalBatchMustFitIn64Bits() throws {
        let s = try settings(gpt, ["train.batch=1048576", "train.accumulate=65536"])
        XCTAssertEqual(check(s, world: 1 << 30, maxBatch: 1, memory: .infinity),
                       "--set train.accumulate=65536: the global batch, train.batch × 1073741824 ranks × train.accumulate = 1048576 × 1073741824 × 65536, does not fit in 64 bits")
    }

    private static func total(_ s: TrainingConfig, _ batch: Int) -> String {
        let bytes = s.memoryParts(maxBatch: batch).reduce(0) { $0 + $1.bytes }
        return String(format: "%.1f TB", bytes / 1e12)
    }
}
