import Data

/// The training and test sets a config names.
public enum TrainingData {
    public static func load(_ settings: TrainingConfig) throws(DataError) -> (train: LabeledImages, test: LabeledImages) {
        let d = settings.data
        switch d.dataset {
        case .fashionMNIST:
            let sets = try FashionMNIST.load(directory: d.path)
            guard sets.train.imageShape == settings.model.inputShape else {
                throw DataError("\(d.path): images are \(sets.train.imageShape), model.input is \(settings.model.inputShape)")
            }
            return sets
        case .synthetic:
            let all = SyntheticImages.make(count: d.trainCount + d.testCount, classes: d.classes,
                                           imageShape: settings.model.inputShape, noise: d.noise, seed: d.seed)
            return all.split(at: d.trainCount)
        }
    }
}
