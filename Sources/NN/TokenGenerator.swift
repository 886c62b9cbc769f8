import Tensor

/// A sequence that a `GPT` extends token by token with a `KVCache`: the window of tokens the
/// model sees (in sequence 0 of `model.tokens`) and the logits of the next token.
///
/// A GPT has T positions (nanoGPT's block_size), and each new token takes one. When the window
/// is full and a token comes, the window is cropped: it keeps its last `keep` tokens, appends
/// the new one, and one forward over those keep + 1 positions rebuilds the cache, since every
/// position embedding has moved. The default keep = T - 1 conditions every token on the last T
/// tokens of the sequence, exactly as nanoGPT's `generate` (`idx[:, -block_size:]`), at the
/// cost of a forward over T positions for each token past the context; a smaller keep rebuilds
/// once every T - keep tokens, and the model then sees between keep + 1 and T tokens.
///
/// Nothing allocates after `init`.
public final class TokenGenerator {
    public let model: GPT
    public let cache: KVCache
    /// The tokens a crop keeps, 0..<T.
    public let keep: Int
    /// The crops since `start`.
    public private(set) var crops = 0

    /// - Precondition: `keep` in 0..<T.
    public init(model: GPT, keep: Int? = nil) {
        let context = model.config.context
        self.model = model
        self.keep = keep ?? context - 1
        precondition(self.keep >= 0 && self.keep < context, "TokenGenerator: keep \(self.keep) outside 0..<\(context)")
        cache = KVCache(model.config)
    }

    /// Starts a sequence with `prompt`, of which the model sees the last T tokens, as nanoGPT
    /// crops a long prompt.
    /// - Precondition: `prompt` is not empty, and every id is in 0..<V.
    public func start(_ prompt: [Int32]) {
        precondition(!prompt.isEmpty, "TokenGenerator: an empty prompt")
        let seen = prompt.suffix(model.config.context)
        _ = UnsafeMutableBufferPointer(rebasing: model.tokens[0..<seen.count]).update(fromContentsOf: seen)
        cache.clear()
        crops = 0
        model.forward(appending: seen.count, to: cache)
    }

    /// Extends the sequence by `token`, cropping the window when it is full.
    public func append(_ token: Int32) {
        precondition(cache.count > 0, "TokenGenerator: append before start")
        let tokens = model.tokens, context = model.config.context
        guard cache.count == context else {
            tokens[cache.count] = token
            model.forward(appending: 1, to: cache)
            return
        }
        for i in 0..<keep { tokens[i] = tokens[context - keep + i] }
        tokens[keep] = token
        crops += 1
        cache.clear()
        model.forward(appending: keep + 1, to: cache)
    }

    /// The logits of the next token, (1, V).
    public var nextLogits: Matrix { model.nextLogits(cache) }

    /// The tokens the model sees now, oldest first.
    public var window: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(rebasing: model.tokens[0..<cache.count]) }
}
