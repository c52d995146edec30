// Function calls: aggregates register themselves and become references to the aggregate's
// output column; scalar functions are checked for argument count and types.
extension Binder {
    static let scalarNames: [String] = [
        "date_trunc", "datetrunc", "lower", "lcase", "upper", "ucase", "length", "len", "char_length",
        "character_length", "coalesce", "ifnull", "substr", "substring", "json_extract_string",
    ]

    /// Known DuckDB functions we deliberately do not run, so the error says "not supported"
    /// rather than "does not exist".
    static let unsupportedNames: Set<String> = [
        "row_number", "rank", "dense_rank", "lag", "lead", "first_value", "last_value", "ntile", "percent_rank",
        "cume_dist", "nth_value", "string_agg", "list", "array_agg", "median", "quantile", "quantile_cont",
        "quantile_disc", "mode", "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop",
        "any_value", "first", "last", "arg_min", "arg_max", "bool_and", "bool_or", "count_if", "histogram",
        "epoch", "epoch_ms", "strftime", "strptime", "now", "current_timestamp", "date_part", "extract",
        "regexp_matches", "regexp_replace", "regexp_extract", "concat", "replace", "trim", "split_part",
        "json_extract", "to_timestamp", "make_timestamp", "round", "abs", "floor", "ceil", "greatest", "least",
        "read_parquet", "read_csv", "unnest", "generate_series", "range", "hash", "md5", "left", "right",
        "starts_with", "ends_with", "contains", "position", "strpos", "instr", "reverse", "repeat", "nullif",
        "if", "iif", "year", "month", "day", "hour", "minute", "second", "week", "dayofweek", "date_diff",
        "datediff", "date_add", "time_bucket", "approx_quantile", "sum_no_overflow", "product", "entropy",
    ]

    mutating func bindCall(name: String, arguments: [Expr], distinct: Bool, isStar: Bool,
                           at position: SourcePosition, _ context: Context) throws -> BoundExpression {
        let lowered = name.lowercased()
        if Binder.aggregateNames.contains(lowered) {
            return try bindAggregate(lowered, arguments: arguments, distinct: distinct, isStar: isStar,
                                     at: position, context)
        }
        if isStar { throw QueryError(.binder, "\(lowered)(*) is only valid for count(*)", at: position) }
        if distinct {
            throw QueryError(.binder, "DISTINCT is only valid inside aggregate functions, not \(lowered)()", at: position)
        }
        let bound = try arguments.map { try bind($0, context) }
        func requireCount(_ counts: ClosedRange<Int>) throws {
            guard counts.contains(bound.count) else {
                let expected = counts.lowerBound == counts.upperBound
                    ? "\(counts.lowerBound)" : "\(counts.lowerBound) to \(counts.upperBound)"
                throw QueryError(.binder, "\(lowered)() takes \(expected) argument\(counts.upperBound == 1 ? "" : "s"), "
                                     + "got \(bound.count)", at: position)
            }
        }
        func text(_ index: Int) throws -> BoundExpression {
            let argument = bound[index]
            if argument.type == .varchar { return argument }
            if argument.type == .null { return BoundExpression.constant(.null, type: .varchar) }
            throw noMatchingFunction(lowered, bound.map(\.type), at: arguments[index].position)
        }
        func integer(_ index: Int) throws -> BoundExpression {
            let argument = bound[index]
            if argument.type == .bigint { return argument }
            if argument.type == .null { return BoundExpression.constant(.null, type: .bigint) }
            if argument.type == .double || argument.constantValue?.type == .varchar {
                return try explicitCast(argument, to: .bigint, at: arguments[index].position)
            }
            throw noMatchingFunction(lowered, bound.map(\.type), at: arguments[index].position)
        }

        switch lowered {
        case "lower", "lcase", "upper", "ucase":
            try requireCount(1...1)
            let function: ScalarFunction = lowered.first == "l" ? .lower : .upper
            return BoundExpression(.function(function, [try text(0)]), type: .varchar)
        case "length", "len", "char_length", "character_length":
            try requireCount(1...1)
            return BoundExpression(.function(.length, [try text(0)]), type: .bigint)
        case "substr", "substring":
            try requireCount(2...3)
            var parts = [try text(0), try integer(1)]
            if bound.count == 3 { parts.append(try integer(2)) }
            return BoundExpression(.function(.substr, parts), type: .varchar)
        case "coalesce", "ifnull":
            try requireCount(lowered == "ifnull" ? 2...2 : 1...Int.max)
            let type = try unifiedType(bound, what: "\(lowered) arguments", at: position)
            let unified = try bound.map { try coerce($0, to: type, at: position) }
            return BoundExpression(.function(.coalesce, unified), type: type)
        case "json_extract_string":
            try requireCount(2...2)
            return BoundExpression(.function(.jsonExtractString, [try text(0), try text(1)]), type: .varchar)
        case "date_trunc", "datetrunc":
            try requireCount(2...2)
            guard case .constant(.string(let partName)) = bound[0].kind else {
                throw QueryError(.binder, "date_trunc() needs a constant date part such as 'day' as its first argument",
                                 at: arguments[0].position)
            }
            guard let part = DatePart(rawValue: partName.lowercased().trimmingSpaces)
                ?? DatePart(rawValue: String(partName.lowercased().trimmingSpaces.dropLast())) else {
                throw QueryError(.invalidInput, "date_trunc(): unsupported date part '\(partName)': expected one of "
                                     + DatePart.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "),
                                 at: arguments[0].position)
            }
            let timestamp = try coerce(bound[1], to: .timestamp, at: arguments[1].position, what: "date_trunc")
            return BoundExpression(.function(.dateTrunc(part), [timestamp]), type: .timestamp)
        default:
            if Binder.unsupportedNames.contains(lowered) {
                throw QueryError(.notSupported, "function \(lowered)() is not supported. Supported functions: "
                                     + supportedFunctionList, at: position)
            }
            let suggestion = closestName(to: lowered, among: Binder.scalarNames + Array(Binder.aggregateNames))
                .map { " Did you mean \"\($0)\"?" } ?? ""
            throw QueryError(.catalog, "Scalar Function with name \(lowered) does not exist!\(suggestion)", at: position)
        }
    }

    var supportedFunctionList: String {
        "count, sum, avg, min, max, approx_count_distinct, date_trunc, lower, upper, length, coalesce, substr, "
            + "json_extract_string"
    }

    private mutating func bindAggregate(_ name: String, arguments: [Expr], distinct: Bool, isStar: Bool,
                                        at position: SourcePosition, _ context: Context) throws -> BoundExpression {
        switch context {
        case .row(let clause):
            throw QueryError(.binder, "aggregate function calls are not allowed in \(clause)", at: position)
        case .aggregateArgument:
            throw QueryError(.binder, "aggregate function calls cannot be nested", at: position)
        case .grouped:
            break
        }
        var aggregate: BoundAggregate
        if isStar {
            guard name == "count" else { throw QueryError(.binder, "\(name)(*) is not valid; use count(*)", at: position) }
            aggregate = BoundAggregate(kind: .countStar, argument: nil, distinct: false, type: .bigint)
        } else {
            guard arguments.count == 1 else {
                if name == "count" && arguments.isEmpty {
                    aggregate = BoundAggregate(kind: .countStar, argument: nil, distinct: false, type: .bigint)
                    return registerAggregate(aggregate)
                }
                throw QueryError(.binder, "\(name)() takes exactly 1 argument, got \(arguments.count)", at: position)
            }
            let argument = try bind(arguments[0], .aggregateArgument)
            switch name {
            case "count":
                aggregate = BoundAggregate(kind: .count, argument: argument, distinct: distinct, type: .bigint)
            case "approx_count_distinct":
                aggregate = BoundAggregate(kind: .approxCountDistinct, argument: argument, distinct: false, type: .bigint)
            case "sum", "avg", "mean":
                var numeric = argument
                if argument.type == .boolean && name == "sum" {
                    numeric = BoundExpression(.cast(argument), type: .bigint)
                } else if argument.type == .null {
                    numeric = BoundExpression.constant(.null, type: .bigint)
                }
                guard numeric.type.isNumeric else { throw noMatchingFunction(name, [argument.type], at: position) }
                if name == "sum" {
                    aggregate = BoundAggregate(kind: .sum, argument: numeric, distinct: distinct, type: numeric.type)
                } else {
                    aggregate = BoundAggregate(kind: .avg, argument: numeric, distinct: distinct, type: .double)
                }
            case "min", "max":
                var typed = argument
                if argument.type == .null { typed = BoundExpression.constant(.null, type: .bigint) }
                aggregate = BoundAggregate(kind: name == "min" ? .min : .max, argument: typed, distinct: false,
                                           type: typed.type)
            default:
                throw QueryError(.internal, "unhandled aggregate \(name)", at: position)
            }
            if distinct && aggregate.kind != .count && aggregate.kind != .sum && aggregate.kind != .avg {
                aggregate.distinct = false // min/max/approx: DISTINCT does not change the result
            }
        }
        return registerAggregate(aggregate)
    }

    private mutating func registerAggregate(_ aggregate: BoundAggregate) -> BoundExpression {
        let index: Int
        if let existing = aggregates.firstIndex(where: { $0.key == aggregate.key }) {
            index = existing
        } else {
            aggregates.append(aggregate)
            index = aggregates.count - 1
        }
        return BoundExpression(.column(groups.count + index), type: aggregate.type)
    }
}
