/// Evaluates bound expressions over data chunks, one vector at a time.
///
/// Two shortcuts matter for speed:
/// - An expression whose only input column is dictionary-encoded is evaluated once per
///   dictionary entry, and the result is a dictionary vector over the same indices. Results
///   for storage dictionaries are cached for the scan unit, so `event = 'track'` costs one
///   comparison per distinct value, then an index lookup per row.
/// - An expression without column inputs is evaluated once and returned as a constant.
///
/// One executor per worker thread: it holds caches and is not thread-safe.
final class ExpressionExecutor {
    private struct CacheKey: Hashable {
        var expression: ObjectIdentifier
        var dictionary: ObjectIdentifier
    }

    private var dictionaryResults: [CacheKey: Vector] = [:]
    /// Keeps cached dictionaries alive so their identifiers are not reused.
    private var cachedTokens: [ObjectIdentifier: DictionaryToken] = [:]
    var likeMatchers: [ObjectIdentifier: LikeMatcher] = [:]
    var jsonPaths: [ObjectIdentifier: [JSONPathStep]] = [:]

    /// Forgets cached per-dictionary results (call between scan units).
    func resetDictionaryCache() {
        dictionaryResults.removeAll(keepingCapacity: true)
        cachedTokens.removeAll(keepingCapacity: true)
    }

    func evaluate(_ expression: BoundExpression, _ chunk: DataChunk) throws -> Vector {
        switch expression.kind {
        case .column(let index):
            return chunk.columns[index]
        case .constant(let value):
            return Vector.constant(value, type: expression.type, count: chunk.count)
        default:
            break
        }
        let columns = expression.referencedColumns
        if columns.isEmpty {
            let single = try evaluateKernel(expression, DataChunk(columns: chunk.columns.map { _ in
                Vector.constant(.null, type: .null, count: 1)
            }, count: 1))
            return Vector.constant(single.value(at: 0), type: expression.type, count: chunk.count)
        }
        if columns.count == 1, let result = try evaluateOverDictionary(expression, column: columns.first!, chunk) {
            return result
        }
        return try evaluateKernel(expression, chunk)
    }

    /// Evaluates once per dictionary entry when the only input is a dictionary vector whose
    /// dictionary is a storage dictionary (cacheable) or no larger than the batch.
    private func evaluateOverDictionary(_ expression: BoundExpression, column: Int, _ chunk: DataChunk) throws
        -> Vector? {
        let input = chunk.columns[column]
        guard case .dictionary(let indices) = input.encoding else { return nil }
        let entryCount = input.buffer.count
        guard input.dictionaryToken != nil || entryCount <= chunk.count else { return nil }

        var entries: Vector
        let key = input.dictionaryToken.map {
            CacheKey(expression: ObjectIdentifier(expression), dictionary: ObjectIdentifier($0))
        }
        if let key, let cached = dictionaryResults[key] {
            entries = cached
        } else {
            // Every column of the chunk must have the entries' length: the expression reads
            // only `column`, the others become NULL constants (slicing them by entry positions
            // would read past their rows).
            let entryColumn = Vector(type: input.type, buffer: input.buffer, validity: input.validity,
                                     encoding: .flat, count: entryCount)
            let dictionaryChunk = DataChunk(columns: chunk.columns.enumerated().map { index, vector in
                index == column ? entryColumn : Vector.constant(.null, type: vector.type, count: entryCount)
            }, count: entryCount)
            do {
                entries = try evaluateKernel(expression, dictionaryChunk).flattened()
            } catch {
                // An entry no selected row uses may fail (a cast, malformed JSON): decide per row.
                return nil
            }
            if let key, let token = input.dictionaryToken {
                dictionaryResults[key] = entries
                cachedTokens[key.dictionary] = token
            }
        }
        return Vector(type: expression.type, buffer: entries.buffer, validity: entries.validity,
                      encoding: .dictionary(indices), count: chunk.count, dictionaryToken: input.dictionaryToken)
    }

    /// Evaluates children, then the node's kernel.
    private func evaluateKernel(_ expression: BoundExpression, _ chunk: DataChunk) throws -> Vector {
        let count = chunk.count
        switch expression.kind {
        case .column, .constant:
            return try evaluate(expression, chunk)
        case .function(let function, let arguments):
            switch function {
            case .coalesce:
                return try coalesce(arguments, type: expression.type, chunk)
            default:
                let inputs = try arguments.map { try evaluate($0, chunk) }
                return try scalar(function, inputs, expression: expression, count: count)
            }
        case .and(let terms):
            return try logical(isAnd: true, terms.map { try evaluate($0, chunk) }, count: count)
        case .or(let terms):
            return try logical(isAnd: false, terms.map { try evaluate($0, chunk) }, count: count)
        case .not(let operand):
            return not(try evaluate(operand, chunk))
        case .isNull(let operand, let negated):
            return isNull(try evaluate(operand, chunk), negated: negated)
        case .inList(let operand, let list, let negated):
            return try inList(try evaluate(operand, chunk), list.map { try evaluate($0, chunk) }, negated: negated)
        case .like(let operand, let pattern, let negated, let caseInsensitive):
            return try like(expression, try evaluate(operand, chunk), try evaluate(pattern, chunk), negated: negated,
                            caseInsensitive: caseInsensitive)
        case .caseWhen(let branches, let otherwise):
            return try caseWhen(branches, otherwise: otherwise, type: expression.type, chunk)
        case .cast(let operand):
            return try cast(try evaluate(operand, chunk), to: expression.type)
        }
    }

    private func scalar(_ function: ScalarFunction, _ inputs: [Vector], expression: BoundExpression, count: Int) throws
        -> Vector {
        switch function {
        case .add, .subtract, .multiply, .divide, .modulo:
            return try arithmetic(function, inputs[0], inputs[1], type: expression.type, count: count)
        case .negate:
            return try negate(inputs[0], count: count)
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            return compare(function, inputs[0], inputs[1], count: count)
        case .concat:
            return concat(inputs[0], inputs[1], count: count)
        case .dateTrunc(let part):
            return mapInt64(inputs[0], type: .timestamp, count: count) { truncateTimestamp($0, to: part) }
        case .lower:
            return mapString(inputs[0], count: count) { caseMapped($0, upper: false) }
        case .upper:
            return mapString(inputs[0], count: count) { caseMapped($0, upper: true) }
        case .length:
            return length(inputs[0], count: count)
        case .substr:
            return substr(inputs, count: count)
        case .jsonExtractString:
            return try jsonExtractString(expression, inputs[0], inputs[1], count: count)
        case .coalesce:
            throw QueryError(.internal, "coalesce reached the scalar kernel")
        }
    }

    /// The rows of `chunk` where `predicate` is TRUE (not FALSE, not NULL). Conjunctions are
    /// applied term by term on the shrinking selection.
    func select(_ predicate: BoundExpression, _ chunk: DataChunk) throws -> [UInt32] {
        if case .and(let terms) = predicate.kind {
            var current = chunk
            var mapping: [UInt32]?
            for term in terms {
                let local = try select(term, current)
                if local.count == current.count { continue }
                if local.isEmpty { return [] }
                if let previous = mapping {
                    mapping = local.map { previous[Int($0)] }
                } else {
                    mapping = local
                }
                current = current.sliced(local)
            }
            return mapping ?? (0..<UInt32(chunk.count)).map { $0 }
        }
        return trueRows(try evaluate(predicate, chunk))
    }

    /// Positions of rows whose boolean value is valid and true.
    func trueRows(_ vector: Vector) -> [UInt32] {
        guard vector.type == .boolean, case .bool(let values) = vector.buffer else { return [] }
        let validity = vector.validity
        switch vector.encoding {
        case .constant:
            let isTrue = (validity?[0] ?? 1) != 0 && values[0] != 0
            return isTrue ? (0..<UInt32(vector.count)).map { $0 } : []
        case .flat:
            var rows: [UInt32] = []
            rows.reserveCapacity(vector.count)
            if let validity {
                for row in 0..<vector.count where values[row] & validity[row] != 0 { rows.append(UInt32(row)) }
            } else {
                for row in 0..<vector.count where values[row] != 0 { rows.append(UInt32(row)) }
            }
            return rows
        case .dictionary(let indices):
            var rows: [UInt32] = []
            rows.reserveCapacity(vector.count)
            // One byte per dictionary entry: true and valid.
            var passes = values
            if let validity { for entry in passes.indices { passes[entry] &= validity[entry] } }
            for row in 0..<vector.count where passes[Int(indices[row])] != 0 { rows.append(UInt32(row)) }
            return rows
        }
    }
}

/// Validity of a flat result: a row is valid when every input row is valid; nil when all are.
func mergedValidity(_ inputs: [Vector], count: Int) -> [UInt8]? {
    var result: [UInt8]?
    for input in inputs {
        if input.type == .null { return [UInt8](repeating: 0, count: count) }
        guard let validity = input.validity else { continue }
        var merged = result ?? [UInt8](repeating: 1, count: count)
        switch input.encoding {
        case .flat:
            for row in 0..<count { merged[row] &= validity[row] }
        case .constant:
            if validity[0] == 0 { return [UInt8](repeating: 0, count: count) }
        case .dictionary(let indices):
            for row in 0..<count { merged[row] &= validity[Int(indices[row])] }
        }
        result = merged
    }
    return result
}
