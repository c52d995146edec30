// CAST kernels. Numeric widening is a loop; casts from and to VARCHAR go through `castValue`
// per row so their rules (and error messages) are the ones the binder uses for constants.
extension ExpressionExecutor {
    func cast(_ input: Vector, to type: LogicalType) throws -> Vector {
        let count = input.count
        if input.type == type { return input }
        if input.type == .null { return Vector.constant(.null, type: type, count: count) }
        let validity = mergedValidity([input], count: count)
        let u = input.unified
        let indices = u.indices ?? []
        let flat = u.indices == nil
        switch (input.buffer, type) {
        case (.int64(let values), .double) where input.type == .bigint:
            var out = [Double](repeating: 0, count: count)
            for row in 0..<count { out[row] = Double(values[flat ? row : Int(indices[row])]) }
            return Vector(type: .double, buffer: .double(out), validity: validity, count: count)
        case (.bool(let values), .bigint):
            var out = [Int64](repeating: 0, count: count)
            for row in 0..<count { out[row] = Int64(values[flat ? row : Int(indices[row])]) }
            return Vector(type: .bigint, buffer: .int64(out), validity: validity, count: count)
        default:
            // A cast of a dictionary vector only needs the entries: cast the buffer once.
            if case .dictionary(let codes) = input.encoding, input.buffer.count <= count {
                let entries = Vector(type: input.type, buffer: input.buffer, validity: input.validity, count: input.buffer.count)
                if let castEntries = try? castRows(entries, to: type) {
                    return Vector(type: type, buffer: castEntries.buffer, validity: castEntries.validity,
                                  encoding: .dictionary(codes), count: count)
                }
            }
            return try castRows(input, to: type)
        }
    }

    private func castRows(_ input: Vector, to type: LogicalType) throws -> Vector {
        var builder = VectorBuilder(type: type, capacity: input.count)
        for row in 0..<input.count {
            builder.append(try castValue(input.value(at: row), to: type))
        }
        return builder.build()
    }
}
