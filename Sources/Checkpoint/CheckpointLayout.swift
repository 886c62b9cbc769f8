import NN
import Tensor

/// A checkpoint's tensors against a model's: the parameters come first in the data section, in
/// the store's layout, then the optimizer's state (`Checkpoint.layout`).
extension LoadedCheckpoint {
    /// The checkpoint's first tensors must be `layout`'s, with the same names and shapes in the
    /// same order; with `whole`, it may hold nothing after them.
    /// - Throws: `CheckpointError` naming the first tensor that differs.
    public func checkLayout(_ layout: [(name: String, shape: [Int])], whole: Bool) throws(CheckpointError) {
        let theirs = header.entries
        for (i, mine) in layout.enumerated() {
            guard i < theirs.count else {
                throw CheckpointError("\(path): has no \(mine.name); it was written for another model or optimizer (\(metadata.optimizer))")
            }
            guard theirs[i].name == mine.name else {
                throw CheckpointError("\(path): holds \(theirs[i].name) where this run has \(mine.name); it was written for another model or optimizer (\(metadata.optimizer))")
            }
            guard theirs[i].shape == mine.shape else {
                throw CheckpointError("\(path): \(mine.name) is \(theirs[i].shape) there and \(mine.shape) in this model")
            }
        }
        if whole && theirs.count > layout.count {
            throw CheckpointError("\(path): holds \(theirs[layout.count].name), which this run's model and optimizer do not have")
        }
    }

    /// Copies the parameters, the checkpoint's first tensors, into `store`'s values.
    /// - Throws: `CheckpointError` if those tensors are not the store's slices.
    public func copyParameters(into store: ParameterStore) throws(CheckpointError) {
        try checkLayout(store.slices.map { (name: $0.name, shape: $0.shape) }, whole: false)
        data.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(store.values.pointer).copyMemory(from: raw.baseAddress!,
                                                                     byteCount: store.totalCount * MemoryLayout<Float>.stride)
        }
    }
}
