import Comm
import Interop
import NN
import RunConfig

extension Trainer {
    /// train.init_from: rank 0 reads the file and checks it against the model (`WeightImport`),
    /// then every rank gets the same parameters, through the node's one copy in `memory` or by
    /// a broadcast. The optimizer's state is fresh and the run starts at step 0: this is
    /// fine-tuning, not resuming.
    /// - Throws: `ConfigError` on every rank alike (exit 2) when the file does not fit the model.
    func initializeParameters(from path: String, memory: NodeMemory?) throws {
        let store = model.parameters
        var failure = ""
        var imported: WeightImport.Imported?
        if comm.rank == 0 {
            let layout = store.slices.map { (name: $0.name, shape: $0.shape) }
            let tied: [WeightImport.TiedTensor] = if case .gpt = settings.model { [.gptHead] } else { [] }
            let outcome = Result { () throws(InteropError) in
                try WeightImport.load(TensorFile(path: path), layout: layout, tied: tied)
            }
            switch outcome {
            case let .success(result): imported = result
            case let .failure(error): failure = error.description.hasPrefix("train.init_from") ? error.description : "train.init_from: \(error.description)"
            }
        }
        let agreed = try comm.broadcast(text: failure, root: 0)
        if !agreed.isEmpty { throw ConfigError(agreed) }
        if let imported {
            imported.values.withUnsafeBufferPointer { source in
                store.values.pointer.update(from: source.baseAddress!, count: source.count)
            }
            notes += imported.notes
            notes.append("starting from the weights of \(path) (train.init_from), with a fresh optimizer at step 0")
        }
        if let memory {
            try memory.synchronize()
        } else {
            try comm.broadcast(UnsafeMutableRawBufferPointer(store.values.buffer), root: 0)
        }
    }
}
