import Datasets

/// How one batch of triplets goes through the model's network(s): each network embeds the images
/// of its triplets as one block [anchors; positives; negatives], and the blocks stack into one
/// embedding matrix [3B, D] that the loss reads through `rows`.
struct BatchPlan {
    struct Block {
        let network: Int
        /// First row of this block in the stacked embedding matrix.
        let firstRow: Int
        /// The images to embed, in row order.
        var images: [Int32]
    }

    var blocks: [Block] = []
    var rows = TripletRows(rows: [], conditions: [])

    init(triplets: TripletList, model: CSNModel) {
        let networkCount = model.networks.count
        var byNetwork = [[Int]](repeating: [], count: networkCount)
        for t in 0..<triplets.count {
            byNetwork[model.networkIndex(condition: Int(triplets[t].condition))].append(t)
        }
        var rowList = [Int32](repeating: 0, count: 3 * triplets.count)
        var conditions = [Int32](repeating: 0, count: triplets.count)
        var nextRow = 0
        for (network, members) in byNetwork.enumerated() where !members.isEmpty {
            let size = members.count
            var images = [Int32](repeating: 0, count: 3 * size)
            for (j, t) in members.enumerated() {
                let triplet = triplets[t]
                images[j] = triplet.anchor
                images[size + j] = triplet.positive
                images[2 * size + j] = triplet.negative
                rowList[3 * t] = Int32(nextRow + j)
                rowList[3 * t + 1] = Int32(nextRow + size + j)
                rowList[3 * t + 2] = Int32(nextRow + 2 * size + j)
                conditions[t] = triplet.condition
            }
            blocks.append(Block(network: network, firstRow: nextRow, images: images))
            nextRow += 3 * size
        }
        rows = TripletRows(rows: rowList, conditions: conditions)
    }
}
