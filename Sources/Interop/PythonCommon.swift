/// Python shared by the generated model.py files: each file carries its own copy, so that it
/// needs nothing but its framework (and numpy) at load time.
enum PythonCommon {
    /// A safetensors reader in numpy alone.
    static let reader = """
    def read_safetensors(path):
        \"\"\"Every tensor of a safetensors file as a numpy array (name -> array), read with numpy alone.\"\"\"
        with open(path, "rb") as f:
            data = f.read()
        n = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + n].decode("utf-8"))
        header.pop("__metadata__", None)
        kinds = {"F32": "<f4", "I32": "<i4", "I64": "<i8", "F64": "<f8"}
        tensors = {}
        for name, entry in header.items():
            begin, end = entry["data_offsets"]
            dtype = np.dtype(kinds[entry["dtype"]])
            values = np.frombuffer(data, dtype=dtype, count=(end - begin) // dtype.itemsize, offset=8 + n + begin)
            tensors[name] = values.reshape(entry["shape"]).astype(dtype.newbyteorder("="))
        return tensors
    """

    /// The module docstring's first lines.
    static func header(_ model: ExportedModel, _ format: ExportFormat, usage: String, layouts: String) -> String {
        """
        \"\"\"\(model.name), exported by Lockstep from \(model.origin), for \(frameworkName(format)).

        \(usage)

        \(layouts)
        Nothing here needs Lockstep: this file, \(format.weightsFile) beside it, and \(frameworkName(format)).
        \"\"\"
        """
    }

    static func frameworkName(_ format: ExportFormat) -> String {
        switch format {
        case .torch: "PyTorch"
        case .keras: "Keras 3"
        case .jax: "JAX"
        case .numpy: "numpy"
        }
    }

    /// A Python tuple literal.
    /// A GPT export's greedy decoding over its `forward(params, tokens)`, for the array module
    /// `np` (`np` or `jnp`): nanoGPT's generate at temperature 0.
    static func greedyGenerate(np: String) -> String {
        """
        def generate(params, prompt, new_tokens):
            \"\"\"Greedy decoding: new_tokens times, the most likely next token (the first on a tie) given the last
            CONTEXT tokens, as nanoGPT's generate at temperature 0. Returns the new tokens.\"\"\"
            tokens = [int(t) for t in prompt]
            for _ in range(new_tokens):
                logits = forward(params, \(np).array([tokens[-CONTEXT:]]))
                tokens.append(int(\(np).argmax(logits[0, -1])))
            return tokens[len(prompt):]
        """
    }

    static func tuple(_ v: [Int]) -> String { v.count == 1 ? "(\(v[0]),)" : "(" + v.map(String.init).joined(separator: ", ") + ")" }

    /// The image preprocessing of a sequential model: uint8 → x · (1/255) in float32, as
    /// Lockstep's loader computes it.
    static func preprocess(channelsLast: Bool, tensor: String) -> String {
        let shape = channelsLast ? "INPUT_SHAPE_CHANNELS_LAST (channels last)" : "INPUT_SHAPE"
        let transpose = channelsLast ? "    if len(INPUT_SHAPE) == 3:\n        x = x.transpose(0, 2, 3, 1)\n" : ""
        return """
        def preprocess(images):
            \"\"\"uint8 images, (N, C, H, W) or (N, H, W) or flat, as the model's input: x * (1/255) in float32,
            shaped (N,) + \(shape).\"\"\"
            x = np.asarray(images, dtype=np.float32) * np.float32(1.0 / 255.0)
            x = x.reshape((len(x),) + INPUT_SHAPE)
        \(transpose)    return \(tensor)
        """
    }
}
