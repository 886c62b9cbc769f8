import Foundation
import NN

/// `lockstep export`: writes into a folder what a framework needs to rebuild a Lockstep model
/// with no Lockstep code at load time:
///
/// | format | files | layouts |
/// |---|---|---|
/// | torch | model.safetensors (a `state_dict`), model.py (`nn.Module`) | Lockstep's, which are PyTorch's; a GPT's file also holds `lm_head.weight`, a copy of wte |
/// | keras | model.safetensors (`<layer>.kernel`, `.bias`), model.py (a functional `keras.Model`; a GPT as Keras layers) | channels-last (`LayoutRules`); a GPT's as the jax export's |
/// | jax | params.safetensors (a pytree under dotted paths), model.py (`forward(params, x)`) | Flax's convention, channels-last |
/// | numpy | params.safetensors, model.py (`forward(params, x)`) | Lockstep's (PyTorch's, MXNet's) |
///
/// Every folder also gets lockstep-config.toml (the run's config, as the checkpoint records it)
/// and README.md (how to load it, and the conversions applied).
public enum ModelExport {
    /// - Returns: the paths written.
    /// - Throws: `InteropError` naming the folder or file that cannot be written.
    @discardableResult
    public static func write(_ model: ExportedModel, format: ExportFormat, to directory: String) throws(InteropError) -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw InteropError("\(directory): cannot create it: \((error as NSError).localizedDescription)")
        }
        let tensors = weights(model, format: format)
        let metadata = ["format": format == .torch ? "pt" : format.rawValue, "lockstep.model": model.name, "lockstep.origin": model.origin]
        var written: [String] = []
        let weightsPath = "\(directory)/\(format.weightsFile)"
        try TensorFileWriter.write(tensors.map { ($0.name, $0.shape, .f32($0.values)) }, metadata: metadata, to: weightsPath)
        written.append(weightsPath)
        for (name, text) in [("model.py", source(model, format: format)), ("lockstep-config.toml", model.configText),
                             ("README.md", readme(model, format: format, tensors: tensors))] {
            let path = "\(directory)/\(name)"
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw InteropError("\(path): cannot write: \((error as NSError).localizedDescription)")
            }
            written.append(path)
        }
        return written
    }

    /// The weights file's tensors for `format`, in its names and layouts.
    public static func weights(_ model: ExportedModel, format: ExportFormat) -> [(name: String, shape: [Int], values: [Float])] {
        let own = model.parameters.map { (name: $0.name, shape: $0.shape, values: $0.values) }
        switch (format, model.architecture) {
        case (.numpy, _): return own
        case (.torch, .sequential): return own
        case (.torch, .gpt):
            let wte = model["transformer.wte.weight"]
            return own + [(name: "lm_head.weight", shape: wte.shape, values: wte.values)]
        case let (.keras, .sequential(_, layers)), let (.jax, .sequential(_, layers)):
            return ChannelsLast.denseAndConv(model, layers: layers)
        case let (.jax, .gpt(config)), let (.keras, .gpt(config)): return PythonJAX.gptTensors(model, config: config)
        }
    }

    static func source(_ model: ExportedModel, format: ExportFormat) -> String {
        switch (format, model.architecture) {
        case (.torch, _): PythonTorch.source(model)
        case let (.keras, .sequential(spec, layers)): PythonKeras.source(model, spec: spec, layers: layers)
        case let (.jax, .sequential(spec, layers)): PythonJAX.sequential(model, spec: spec, layers: layers)
        case let (.jax, .gpt(config)): PythonJAX.gpt(model, config: config)
        case let (.numpy, .sequential(spec, layers)): PythonNumpy.sequential(model, spec: spec, layers: layers)
        case let (.numpy, .gpt(config)): PythonNumpy.gpt(model, config: config)
        case let (.keras, .gpt(config)): PythonKerasGPT.source(model, config: config)
        }
    }

    static func readme(_ model: ExportedModel, format: ExportFormat, tensors: [(name: String, shape: [Int], values: [Float])]) -> String {
        let framework = PythonCommon.frameworkName(format)
        var lines = ["# \(model.name) for \(framework)", "",
                     "Exported by `lockstep export --format \(format.rawValue)` from \(model.origin).", "",
                     "```python", "import sys; sys.path.insert(0, \"THIS_FOLDER\")", "import model"]
        switch (format, model.architecture) {
        case (.torch, .sequential): lines += ["net = model.load()", "logits = net(model.preprocess(images))  # uint8 images"]
        case (.torch, .gpt): lines += ["net = model.load()", "tokens = model.generate(net, prompt_ids, 50)"]
        case (.keras, .sequential): lines += ["net = model.load()", "logits = net(model.preprocess(images))", "net.save(\"model.keras\")"]
        case (.keras, .gpt): lines += ["net = model.load()", "tokens = model.generate(net, prompt_ids, 50)"]
        case (_, .sequential): lines += ["params = model.load()", "logits = model.forward(params, model.preprocess(images))"]
        case (_, .gpt): lines += ["params = model.load()", "tokens = model.generate(params, prompt_ids, 50)"]
        }
        lines += ["```", "", "| file | holds |", "|---|---|",
                  "| `model.py` | the model for \(framework), self-contained (it reads the weights with numpy) |",
                  "| `\(format.weightsFile)` | \(tensors.count) F32 tensors, safetensors |",
                  "| `lockstep-config.toml` | the config of the run that trained it |", "",
                  "## Layouts", ""]
        switch (format, model.architecture) {
        case (.torch, .sequential):
            lines.append("Lockstep's own, which are PyTorch's: Linear weights `[out, in]`, Conv2d weights `[out, in, kh, kw]`, images `(N, C, H, W)`. No conversion.")
        case (.torch, .gpt):
            lines.append("nanoGPT's names and PyTorch's layouts, as Lockstep's. `lm_head.weight` is a copy of `transformer.wte.weight`, to which the head is tied, so that `load_state_dict(strict=True)` takes the file as it is.")
        case (.numpy, _):
            lines.append("Lockstep's own, which are PyTorch's and MXNet Gluon's: Linear/Dense weights `[out, in]`, Conv2d weights `[out, in, kh, kw]`, images `(N, C, H, W)`. No conversion.")
        case (.keras, .sequential), (.jax, .sequential):
            lines += ["Converted to channels-last (Keras; Flax's convention for JAX):", "",
                      "| Lockstep | here |", "|---|---|",
                      "| `<linear>.weight` `[out, in]` | `<linear>.kernel` `[in, out]`, the transpose |",
                      "| `<conv>.weight` `[out, in, kh, kw]` | `<conv>.kernel` `[kh, kw, in, out]` |",
                      "| images `(N, C, H, W)` | `(N, H, W, C)` |",
                      "| the first linear after a flatten of `(C, H, W)`, C > 1: column `c·H·W + h·W + w` | kernel row `(h·W + w)·C + c` |",
                      "| `<layer>.bias` | `<layer>.bias` |"]
        case (.jax, .gpt), (.keras, .gpt):
            lines += [format == .jax ? "Flax's convention, converted from nanoGPT's:" : "Keras's layouts (Dense kernels [in, out]; LayerNormalization's gamma as `scale`), converted from nanoGPT's:", "",
                      "| Lockstep | here |", "|---|---|",
                      "| `transformer.wte.weight`, `transformer.wpe.weight` | `wte.embedding`, `wpe.embedding` |",
                      "| `transformer.h.{i}.<linear>.weight` `[out, in]` | `h.{i}.<linear>.kernel` `[in, out]` |",
                      "| `transformer.h.{i}.ln_1.weight` (and `ln_2`, `ln_f`) | `h.{i}.ln_1.scale` |",
                      "| biases | the same name without `transformer.` |"]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
