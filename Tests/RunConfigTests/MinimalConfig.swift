/// The smallest config the loader accepts: a linear layer on synthetic 4×4 images of 3 classes.
let minimalConfig = """
[model]
input = [1, 4, 4]
layers = [{ type = "flatten" }, { type = "linear", in = 16, out = 3 }]
[data]
dataset = "synthetic"
classes = 3
"""
