/// `train.init_from`: weights made elsewhere (a PyTorch `state_dict` saved with
/// `safetensors.torch.save_file`, a Keras or JAX export converted back, another Lockstep run)
/// as the first parameters of a run. The file must hold exactly the model's tensors, by name,
/// each of the model's shape and F32; the first that does not is an error naming it, the shape
/// expected and the shape found. Two kinds of extra tensors are accepted:
/// - `lm_head.weight` of a GPT, which a tied PyTorch `state_dict` carries: it must equal
///   `transformer.wte.weight`, since Lockstep's head is the token embedding;
/// - `optim.*` of a Lockstep checkpoint, the optimizer state, which a fresh run does not take.
public enum WeightImport {
    /// A tensor a file may hold beside the model's, if it equals one of them.
    public struct TiedTensor: Sendable {
        public var name: String
        public var tiedTo: String

        public init(name: String, tiedTo: String) {
            self.name = name
            self.tiedTo = tiedTo
        }

        /// nanoGPT's output head, tied to its token embedding.
        public static let gptHead = TiedTensor(name: "lm_head.weight", tiedTo: "transformer.wte.weight")
    }

    /// What was imported: the parameters in layout order, and what was set aside.
    public struct Imported: Sendable {
        public var values: [Float]
        /// Lines for the user: tensors accepted and not used.
        public var notes: [String]
    }

    /// Checks `file` against `layout` (the model's parameters, in order) and returns their values.
    /// - Throws: `InteropError`, e.g. "train.init_from: w.safetensors: fc1.weight has shape
    ///   [32, 63]; the model expects [32, 64]".
    public static func load(_ file: TensorFile, layout: [(name: String, shape: [Int])],
                            tied: [TiedTensor] = []) throws(InteropError) -> Imported {
        let at = "train.init_from: \(file.path)"
        let expected = Set(layout.map(\.name))
        let isLockstepCheckpoint = file.metadata["format"]?.hasPrefix("lockstep.checkpoint") == true
        var notes: [String] = []
        for mine in layout {
            guard let theirs = file[mine.name] else {
                throw InteropError("\(at): no tensor \(mine.name); the model expects \(mine.name) with shape \(mine.shape)")
            }
            guard theirs.shape == mine.shape else {
                throw InteropError("\(at): \(mine.name) has shape \(theirs.shape); the model expects \(mine.shape)")
            }
            guard theirs.dtype == "F32" else {
                throw InteropError("\(at): \(mine.name) is \(theirs.dtype); Lockstep reads F32 only (in PyTorch, save model.float().state_dict())")
            }
        }
        for extra in file.entries where !expected.contains(extra.name) {
            if isLockstepCheckpoint && extra.name.hasPrefix("optim.") { continue }
            if let tie = tied.first(where: { $0.name == extra.name }), let target = file[tie.tiedTo] {
                guard extra.dtype == "F32", extra.shape == target.shape, file.floats(extra) == file.floats(target) else {
                    throw InteropError("\(at): \(extra.name) differs from \(tie.tiedTo); Lockstep's model ties the two, so they must be equal")
                }
                notes.append("\(file.path): \(extra.name) equals \(tie.tiedTo), to which Lockstep's model ties it")
                continue
            }
            throw InteropError("\(at): holds \(extra.name) with shape \(extra.shape), which the model does not have (its tensors: \(layout.map(\.name).joined(separator: ", ")))")
        }
        if isLockstepCheckpoint && file.entries.contains(where: { $0.name.hasPrefix("optim.") }) {
            notes.append("\(file.path): the optimizer state of that Lockstep checkpoint is not used; the optimizer starts fresh")
        }
        var values: [Float] = []
        values.reserveCapacity(layout.reduce(0) { $0 + $1.shape.reduce(1, *) })
        for mine in layout { values += file.floats(file[mine.name]!) }
        return Imported(values: values, notes: notes)
    }
}
