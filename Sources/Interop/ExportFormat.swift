/// The frameworks `lockstep export` writes for.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// A `state_dict` as safetensors and an `nn.Module` in model.py.
    case torch
    /// Keras 3: channels-last weights as safetensors and a functional model in model.py (a
    /// GPT: its layers, in the jax export's weight names).
    case keras
    /// A pure `jax.numpy` forward in model.py and the parameters as a pytree (safetensors,
    /// channels-last in Flax's convention).
    case jax
    /// A numpy forward in model.py and the parameters in PyTorch's (and MXNet's) layouts.
    case numpy

    /// The weights file's name in the export folder.
    public var weightsFile: String {
        switch self {
        case .torch, .keras: "model.safetensors"
        case .jax, .numpy: "params.safetensors"
        }
    }

    /// Whether its layouts are channels-last (Keras, JAX) rather than Lockstep's own.
    var channelsLast: Bool { self == .keras || self == .jax }
}
