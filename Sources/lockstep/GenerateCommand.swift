import ArgumentParser
import Comm
import Foundation
import NN
import Tensor

/// `lockstep generate`: continues a prompt with a GPT checkpoint, one process, a key-value cache.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with a GPT checkpoint (one process, with a key-value cache).",
        discussion: """
            Rebuilds the GPT from the config its checkpoint records, and writes the prompt followed by \
            --tokens new tokens to stdout as they come. A model of data.dataset = "text" reads and writes \
            bytes: --prompt is taken as UTF-8, and the output is raw bytes, which need not be UTF-8. A model \
            of data.dataset = "tokens" was trained on another tokenizer's ids, which Lockstep cannot encode: \
            give its prompt as ids with --prompt-tokens 1,2,3, and it prints the prompt's and the new ids, \
            comma separated (--prompt-tokens also gives a text model its bytes as numbers). \
            Temperature 0 is greedy; otherwise each token is drawn from softmax(logits / temperature), over \
            the --top-k most likely only if given, with a generator seeded by --seed. \
            A prompt longer than the model's context is cropped to its last context tokens (a note says so). \
            When the window is full, it keeps its last --keep tokens (default context - 1, so that every \
            token sees the last context tokens, as nanoGPT's generate) and the cache is rebuilt for them. \
            It runs as one process: under mpirun only with -np 1.
            """)

    @Option(help: "A checkpoint file, or a checkpoint folder (its 'latest').")
    var checkpoint: String

    @Option(help: "The text to continue (a model of data.dataset = \"text\").")
    var prompt: String?

    @Option(help: ArgumentHelp("The prompt as token ids, comma separated (a model of data.dataset = \"tokens\").",
                               valueName: "ids"))
    var promptTokens: String?

    @Option(help: "How many tokens to generate.")
    var tokens: Int

    @Option(help: "Softmax temperature; 0 is greedy.")
    var temperature: Float = 0.8

    @Option(help: "Draw from the k most likely tokens only.")
    var topK: Int?

    @Option(help: "The seed of the sampling generator.")
    var seed: UInt64 = 0

    @Option(help: "Tokens a full window keeps (default: the context - 1).")
    var keep: Int?

    func run() throws {
        try World.start()
        guard World.size == 1 else {
            throw UsageError("generate runs as one process, and this is a world of \(World.size): run it without mpirun, or with -np 1")
        }
        guard tokens >= 1 else { throw UsageError("--tokens must be at least 1, got \(tokens)") }
        guard temperature.isFinite && temperature >= 0 else {
            throw UsageError("--temperature must be a finite number, 0 (greedy) or more, got \(temperature)")
        }
        if let topK, topK < 1 { throw UsageError("--top-k must be at least 1, got \(topK)") }
        if let keep, keep < 0 { throw UsageError("--keep must be 0 or more, got \(keep)") }
        let promptIds = try readPrompt()

        let loaded = try CheckpointGPT.load(checkpoint)
        let config = loaded.model.config
        if loaded.dataset == .tokens && prompt != nil {
            throw UsageError("\(loaded.path) holds a model of pre-tokenized data (data.dataset = \"tokens\"), whose tokenizer Lockstep does not know: give the prompt as token ids with --prompt-tokens 1,2,3")
        }
        if let outside = promptIds.first(where: { $0 >= config.vocab }) {
            throw UsageError("--prompt-tokens: \(outside) is outside the model's vocabulary 0..<\(config.vocab)")
        }
        if let keep, keep >= config.context {
            throw UsageError("--keep must be below the model's context of \(config.context), got \(keep)")
        }
        if promptIds.count > config.context {
            note("the prompt has \(promptIds.count) tokens, more than the model's context of \(config.context): it sees the last \(config.context)")
        }

        BLASThreads.set(1)
        let generator = TokenGenerator(model: loaded.model, keep: keep)
        var sampler = TokenSampler(vocab: config.vocab, temperature: temperature, topK: topK, seed: seed)
        var output = TokenWriter(bytes: loaded.dataset == .text)
        for id in promptIds { output.write(Int32(id)) }
        let start = MonotonicClock.nanoseconds()
        generator.start(promptIds.map { Int32($0) })
        let prefill = MonotonicClock.seconds(since: start)
        for i in 0..<tokens {
            let token = sampler.next(generator.nextLogits)
            output.write(token)
            if i < tokens - 1 { generator.append(token) }
        }
        let seconds = MonotonicClock.seconds(since: start)
        output.finish()
        note("\(tokens) tokens in \(String(format: "%.3f", seconds)) s, \(String(format: "%.1f", Double(tokens) / seconds)) tokens/s (the prompt's \(min(promptIds.count, config.context)) in \(String(format: "%.1f", prefill * 1000)) ms; the window cropped \(generator.crops) times); \(loaded.path), step \(loaded.step)")
    }

    /// The prompt's token ids: the bytes of --prompt, or the numbers of --prompt-tokens.
    private func readPrompt() throws -> [Int] {
        switch (prompt, promptTokens) {
        case (nil, nil):
            throw UsageError("no prompt: give --prompt TEXT, or --prompt-tokens 1,2,3 for a model of token ids")
        case (.some, .some):
            throw UsageError("give the prompt once: --prompt or --prompt-tokens, not both")
        case let (text?, nil):
            guard !text.isEmpty else { throw UsageError("--prompt is empty: give at least one character to continue") }
            return text.utf8.map(Int.init)
        case let (nil, list?):
            guard !list.isEmpty else { throw UsageError("--prompt-tokens is empty: give at least one token id to continue") }
            return try list.split(separator: ",", omittingEmptySubsequences: false).map { field in
                let text = field.trimmingCharacters(in: .whitespaces)
                guard let id = Int(text), id >= 0 else {
                    throw UsageError("--prompt-tokens: \"\(text)\" is not a token id; give ids 0 or more separated by commas, e.g. 1,2,3")
                }
                return id
            }
        }
    }

    private func note(_ text: String) {
        FileHandle.standardError.write(Data("lockstep: note: \(text)\n".utf8))
    }
}
