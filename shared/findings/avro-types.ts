/**
 * The TypeScript type of a value of an Avro schema written `as const`, derived by the compiler
 * (type-level only, nothing at run time): so the finding types in `types.ts` are read from
 * `schema.ts` instead of mirrored by hand, and a field added to the schema is a field of the type.
 *
 * Natural shape, as `avro-json.ts` converts to and from the wire: a `["null", T]` union is an
 * optional property (absent, never null); records are readonly objects; arrays readonly arrays;
 * `long`, `int`, `float` and `double` are numbers. Named-type references and other unions are not
 * used by the finding schema and are not supported (they derive `never`, which fails the build
 * wherever such a field is used).
 *
 * @module
 */

interface Primitives {
  readonly null: null;
  readonly boolean: boolean;
  readonly int: number;
  readonly long: number;
  readonly float: number;
  readonly double: number;
  readonly string: string;
}

interface AvroField {
  readonly name: string;
  readonly type: unknown;
}

/** Whether a field's type is the optional form `["null", T]`. */
type IsOptional<F> = F extends { readonly type: readonly ['null', unknown] } ? true : false;

/** Spreads an intersection into one object type, so editors and errors show the fields. */
type Flat<T> = { readonly [K in keyof T]: T[K] };

type AvroRecord<Fields extends readonly AvroField[]> = Flat<
  { readonly [F in Fields[number] as IsOptional<F> extends true ? never : F['name']]: AvroValue<F['type']> } & {
    readonly [F in Fields[number] as IsOptional<F> extends true ? F['name'] : never]?: AvroValue<F['type']>;
  }
>;

/** The value type of the Avro schema `S`. */
export type AvroValue<S> = S extends keyof Primitives
  ? Primitives[S]
  : S extends { readonly type: 'record'; readonly fields: infer Fields extends readonly AvroField[] }
    ? AvroRecord<Fields>
    : S extends { readonly type: 'array'; readonly items: infer Items }
      ? readonly AvroValue<Items>[]
      : S extends readonly ['null', infer T]
        ? AvroValue<T>
        : never;

/**
 * `T` with some of its properties narrowed to a subset of their values (a string field the schema
 * documents as an enumeration). Optionality is kept; a narrowing that is not a subset fails the build.
 */
export type Narrowed<T, N extends { readonly [K in keyof N]: K extends keyof T ? NonNullable<T[K]> : never }> = {
  readonly [K in keyof T]: K extends keyof N ? N[K] : T[K];
};
