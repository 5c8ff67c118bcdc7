"""Token-id TFRecords read and written without TensorFlow (for Grain).

The files of `tokdrop_keras.data.tfrecords` (`write_pretraining_tfrecords`):
each record a serialized `tf.train.Example` with one feature, `token_ids`
(`int64_list`), the token ids of one document. This module reads them with
the standard library and NumPy only, so that an input pipeline without
TensorFlow (Grain on JAX) can use them.

A TFRecord file is a sequence of records, each framed as

    uint64 length | uint32 masked crc32c(length) | data |
    uint32 masked crc32c(data)

(little-endian). Both checksums are checked; the data checksums are computed
with NumPy over whole blocks of records at a time (pure-Python CRC-32C runs
at a few MB/s). The protobuf wire format of `tf.train.Example` is walked by
hand, and the packed varints of the token ids are decoded with NumPy, a block
of records at a time.
"""

import glob
import os
import re
import struct

import numpy as np

TOKEN_IDS_FEATURE = "token_ids"
_TOKEN_IDS_KEY = TOKEN_IDS_FEATURE.encode("utf-8")
_MODEL_GARDEN_KEY = b"input_word_ids"

# Records are read and checked in blocks of about this many bytes.
_BLOCK_BYTES = 4 << 20
# CRC-32C (Castagnoli), reflected polynomial; TFRecord masks it.
_POLYNOMIAL = 0x82F63B78
_MASK_DELTA = 0xA282EAD8
# Data checksums are computed in lockstep over chunks of this many bytes.
_CHUNK_BYTES = 64
_INT32_MAX = 2**31 - 1


# ----------------------------------------------------------------- CRC-32C


def _byte_table():
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(
            table & 1, (table >> 1) ^ np.uint32(_POLYNOMIAL), table >> 1
        ).astype(np.uint32)
    return table


_TABLE = _byte_table()
_TABLE_LIST = _TABLE.tolist()


def _slicing_tables():
    """`T0..T3` of slicing-by-4: four bytes of state and data at a time."""
    tables = [_TABLE]
    for _ in range(3):
        previous = tables[-1]
        tables.append((previous >> 8) ^ _TABLE[previous & 0xFF])
    return tables


_T0, _T1, _T2, _T3 = _slicing_tables()


def _advance_word(state):
    """The raw CRC state after 4 zero bytes (the data already XORed in)."""
    return (
        _T3[state & 0xFF]
        ^ _T2[(state >> 8) & 0xFF]
        ^ _T1[(state >> 16) & 0xFF]
        ^ _T0[state >> 24]
    )


def _apply(tables, state):
    return (
        tables[0][state & 0xFF]
        ^ tables[1][(state >> 8) & 0xFF]
        ^ tables[2][(state >> 16) & 0xFF]
        ^ tables[3][state >> 24]
    )


def _zeros_tables():
    """`[tables of f_n for n = _CHUNK_BYTES * 2**b]`, grown on demand.

    `f_n` maps a raw CRC state to the state after `n` zero bytes; it is
    linear, so four tables of 256 entries (one per byte of the state) hold
    it. `raw(A + B) == f_len(B)(raw(A)) ^ raw(B)`.
    """
    basis = np.concatenate(
        [np.arange(256, dtype=np.uint32) << np.uint32(8 * k) for k in range(4)]
    )
    state = basis
    for _ in range(_CHUNK_BYTES // 4):
        state = _advance_word(state)
    return [state.reshape(4, 256)]


_ZEROS_TABLES = _zeros_tables()


def _zeros_table(bit):
    while len(_ZEROS_TABLES) <= bit:
        tables = _ZEROS_TABLES[-1]
        _ZEROS_TABLES.append(_apply(tables, tables))
    return _ZEROS_TABLES[bit]


def _crc32c(data):
    """CRC-32C of `data` (bytes-like), in pure Python: for short data."""
    crc = 0xFFFFFFFF
    table = _TABLE_LIST
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _mask(crc):
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _mask_array(crc):
    crc = crc.astype(np.uint32)
    rotated = (crc >> np.uint32(15)) | (crc << np.uint32(17))
    return rotated + np.uint32(_MASK_DELTA)  # wraps modulo 2**32


def _crc32c_ranges(data, starts, lengths):
    """CRC-32C of the byte ranges `data[start:start + length]`, vectorized.

    Each range is split into chunks of `_CHUNK_BYTES` (zero-padded at the
    front, which leaves a CRC without initial value unchanged); the chunks'
    CRCs are computed in lockstep, shifted into place with the `f_n` tables
    and XORed per range.

    Args:
        data: uint8 array.
        starts, lengths: int64 arrays, one entry per range.

    Returns:
        A uint32 array of the (unmasked) CRC-32C of each range.
    """
    crcs = np.zeros(len(starts), np.uint32)
    short = lengths < 4  # the initial value is XORed into the first 4 bytes
    for index in np.flatnonzero(short):
        start = int(starts[index])
        crcs[index] = _crc32c(data[start : start + int(lengths[index])])
    keep = ~short
    starts, lengths = starts[keep], lengths[keep]
    if not len(starts):
        return crcs
    num_chunks = -(-lengths // _CHUNK_BYTES)
    chunk_base = np.cumsum(num_chunks) - num_chunks
    # Where each range's first byte goes in the padded array.
    first = chunk_base * _CHUNK_BYTES + num_chunks * _CHUNK_BYTES - lengths
    padded = np.zeros(int(num_chunks.sum()) * _CHUNK_BYTES, np.uint8)
    # One slice copy per range: faster than a gather of every byte.
    for start, target, length in zip(
        starts.tolist(), first.tolist(), lengths.tolist()
    ):
        padded[target : target + length] = data[start : start + length]
    for k in range(4):  # the initial value 0xFFFFFFFF
        padded[first + k] ^= 0xFF
    words = padded.view("<u4").reshape(-1, _CHUNK_BYTES // 4)
    state = np.zeros(len(words), np.uint32)
    for column in range(words.shape[1]):
        state = _advance_word(state ^ words[:, column])
    # Shift each chunk's CRC by the chunks after it in its range.
    chunk_range = np.repeat(np.arange(len(starts)), num_chunks)
    after = (chunk_base + num_chunks)[chunk_range] - 1 - np.arange(len(words))
    bit = 0
    while after.size and (after >> bit).any():
        selected = np.flatnonzero((after >> bit) & 1)
        state[selected] = _apply(_zeros_table(bit), state[selected])
        bit += 1
    crcs[keep] = np.bitwise_xor.reduceat(state, chunk_base) ^ np.uint32(
        0xFFFFFFFF
    )
    return crcs


# ---------------------------------------------------------- record framing


def _open(path, mode):
    if "://" in path:  # gs://...: through tf.io.gfile, where installed
        import tokdrop_keras.filesystem as filesystem

        return filesystem.open_file(path, mode)
    return open(path, mode)


def _length_crcs(data, headers):
    """CRC-32C of the 8 length bytes at each of `headers`, vectorized."""
    state = _advance_word(_gather_u32(data, headers) ^ np.uint32(0xFFFFFFFF))
    state = _advance_word(state ^ _gather_u32(data, headers + 4))
    return state ^ np.uint32(0xFFFFFFFF)


def _first_bad_record(data, headers, lengths):
    """Index (in the block) of the first record whose length or data
    checksum fails, and what failed; `(None, None)` when all pass."""
    stored_length_crcs = _gather_u32(data, headers + 8)
    length_crcs = _mask_array(_length_crcs(data, headers))
    stored_data_crcs = _gather_u32(data, headers + 12 + lengths)
    data_crcs = _mask_array(_crc32c_ranges(data, headers + 12, lengths))
    bad_length = np.flatnonzero(length_crcs != stored_length_crcs)
    bad_data = np.flatnonzero(data_crcs != stored_data_crcs)
    first_length = bad_length[0] if bad_length.size else len(headers)
    first_data = bad_data[0] if bad_data.size else len(headers)
    if first_length <= first_data and first_length < len(headers):
        return int(first_length), "the length's checksum does not match"
    if first_data < len(headers):
        return int(first_data), "the data's checksum does not match"
    return None, None


def _gather_u32(data, offsets):
    offsets = offsets.astype(np.int64)
    return (
        data[offsets].astype(np.uint32)
        | data[offsets + 1].astype(np.uint32) << np.uint32(8)
        | data[offsets + 2].astype(np.uint32) << np.uint32(16)
        | data[offsets + 3].astype(np.uint32) << np.uint32(24)
    )


def _record_blocks(path, block_bytes=None):
    """Yields `(buffer, starts, lengths, first_index)`: blocks of checked
    records (read about `block_bytes` at a time), as offsets of their data
    into `buffer` (bytes).

    Raises:
        ValueError: naming the file and the record, after yielding the
            records before it, if a record is truncated or corrupt.
    """
    block_bytes = block_bytes or _BLOCK_BYTES
    index = 0
    buffer = b""
    with _open(path, "rb") as file:
        end_of_file = False
        needed = block_bytes
        while True:
            if not end_of_file:
                # A record longer than a block is read in several reads.
                chunk = file.read(min(max(needed, block_bytes), 1 << 28))
                end_of_file = len(chunk) == 0
                buffer = buffer + chunk if buffer else chunk
            headers, lengths = [], []
            position, size, error = 0, len(buffer), None
            unpack = struct.unpack_from
            while position + 12 <= size:
                (length,) = unpack("<Q", buffer, position)
                if position + 16 + length > size:
                    (stored,) = unpack("<I", buffer, position + 8)
                    length_crc = _crc32c(buffer[position : position + 8])
                    if _mask(length_crc) != stored:
                        error = "corrupt: the length's checksum does not match"
                    elif end_of_file:
                        error = (
                            f"truncated: the file ends {size - position} "
                            f"bytes into its {16 + length}"
                        )
                    break
                headers.append(position)
                lengths.append(length)
                position += 16 + length
            if error is None and end_of_file and position < size:
                error = (
                    f"truncated: the file ends {size - position} bytes into "
                    "its 12-byte header"
                )
            if headers:
                data = np.frombuffer(buffer, np.uint8)
                headers = np.asarray(headers, np.int64)
                lengths = np.asarray(lengths, np.int64)
                bad, reason = _first_bad_record(data, headers, lengths)
                if bad is not None:
                    if bad:
                        yield buffer, headers[:bad] + 12, lengths[:bad], index
                    raise ValueError(
                        f"{path}: record {index + bad} (counting from 0) is "
                        f"corrupt: {reason}."
                    )
                yield buffer, headers + 12, lengths, index
                index += len(headers)
            if error is not None:
                raise ValueError(
                    f"{path}: record {index} (counting from 0) is {error}."
                )
            buffer = buffer[position:]
            if end_of_file:
                return
            needed = (
                16 + struct.unpack_from("<Q", buffer)[0] - len(buffer)
                if len(buffer) >= 12
                else block_bytes
            )


def read_records(path):
    """Yields the records (bytes) of one TFRecord file, checking them.

    The length and data checksums (masked CRC-32C) of each record are
    checked, as `tf.data.TFRecordDataset` does.

    Args:
        path: a TFRecord file (not compressed).

    Yields:
        The data of each record, as `bytes`.

    Raises:
        ValueError: naming the file and the record (counting from 0), after
            yielding the records before it, if the file is truncated or a
            record is corrupt.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data.record_files import parse_token_ids
    from tokdrop_keras.data.record_files import read_records
    from tokdrop_keras.data.record_files import write_token_id_records
    path = os.path.join(tempfile.mkdtemp(), "a.tfrecord")
    write_token_id_records(path, [[76, 362, 5], [543, 131, 4663, 17]])
    records = list(read_records(path))
    assert len(records) == 2
    assert parse_token_ids(records[1]).tolist() == [543, 131, 4663, 17]
    with open(path, "r+b") as file:
        file.truncate(16 + len(records[0]) + 20)  # into the second record
    try:
        list(read_records(path))
        raise AssertionError("a truncated file was read")
    except ValueError as error:
        assert path in str(error) and "record 1 " in str(error)
    ```
    """
    for buffer, starts, lengths, _ in _record_blocks(path):
        view = memoryview(buffer)
        for start, length in zip(starts.tolist(), lengths.tolist()):
            yield bytes(view[start : start + length])


# ---------------------------------------------------- tf.train.Example wire


class _NotTokenIds(ValueError):
    """A record without an int64_list `token_ids` feature."""

    def __init__(self, keys, kind=None):
        self.keys = sorted(key.decode("utf-8", "replace") for key in keys)
        self.kind = kind  # `None`: no `token_ids` feature; else its kind
        super().__init__(self.describe(None))

    def describe(self, path):
        if self.kind is not None:
            return (
                f"feature {TOKEN_IDS_FEATURE!r} must be an int64_list of "
                f"token ids, not {self.kind}."
            )
        hint = ""
        if _MODEL_GARDEN_KEY.decode() in self.keys:
            source = f"model_garden:{path or '<files>'}"
            hint = (
                " These look like Model Garden records: use the source "
                f"'{source}'."
            )
        return (
            f"records have features {self.keys}, expected "
            f"{TOKEN_IDS_FEATURE!r} (int64 token ids of a document).{hint}"
        )


class _Malformed(ValueError):
    """A record that is not a valid `tf.train.Example` of token ids."""

    def __init__(self, message, span=None):
        super().__init__(message)
        self.span = span  # which of several decoded spans


def _varint(buffer, position, end):
    result = shift = 0
    while position < end:
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7
        if shift >= 70:
            raise _Malformed("a varint is longer than 10 bytes")
    raise _Malformed("a varint runs past its field")


def _fields(buffer, position, end):
    """Yields `(field number, wire type, value, start, end)` of a message:
    the value of a varint, the span of a length-delimited field."""
    while position < end:
        key, position = _varint(buffer, position, end)
        number, wire_type = key >> 3, key & 7
        if wire_type == 2:
            length, position = _varint(buffer, position, end)
            if position + length > end:
                raise _Malformed("a field runs past its message")
            yield number, 2, None, position, position + length
            position += length
        elif wire_type == 0:
            value, position = _varint(buffer, position, end)
            yield number, 0, value, None, None
        elif wire_type == 1:
            position += 8
        elif wire_type == 5:
            position += 4
        else:
            raise _Malformed(f"wire type {wire_type} is not supported")
        if position > end:
            raise _Malformed("a field runs past its message")


_KINDS = {1: "a bytes_list", 2: "a float_list", 3: "an int64_list"}
_VARINT = rb"([\x80-\xff]{0,9}[\x00-\x7f])"
# The records TensorFlow writes: Example{features: Features{feature:
# {key: "token_ids", value: Feature{int64_list: Int64List{value: packed}}}}},
# each field a length and the last (only) field of its message.
_WRITTEN_BY_TF = re.compile(
    b"\x0a%s\x0a%s\x0a\x09token_ids\x12%s\x1a%s\x0a%s"
    % ((_VARINT,) * 5),
    re.DOTALL,
)


def _token_id_pieces(buffer, start, end):
    """The pieces of the `token_ids` feature of one serialized Example: a
    list of `(start, end)` spans of packed varints and of int values.

    Raises:
        _NotTokenIds: if the feature is missing or not an int64_list.
        _Malformed: if the record is not a valid Example.
    """
    match = _WRITTEN_BY_TF.match(buffer, start, end)
    if match:  # check that each length runs to the end, else walk it
        for group in range(1, 6):
            length_end = match.end(group)
            length = buffer[length_end - 1]
            if length_end - match.start(group) > 1:
                length, _ = _varint(buffer, match.start(group), length_end)
            if length != end - length_end:
                break
        else:
            return [(match.end(), end)]
    keys = set()
    feature = None
    for number, wire_type, _, f_start, f_end in _fields(buffer, start, end):
        if number != 1 or wire_type != 2:  # Example.features
            continue
        entries = _fields(buffer, f_start, f_end)
        for number, wire_type, _, e_start, e_end in entries:
            if number != 1 or wire_type != 2:  # Features.feature (map entry)
                continue
            key, value = b"", (e_end, e_end)
            for number, wire_type, _, v_start, v_end in _fields(
                buffer, e_start, e_end
            ):
                if wire_type != 2:
                    continue
                if number == 1:
                    key = bytes(buffer[v_start:v_end])
                elif number == 2:
                    value = (v_start, v_end)
            keys.add(key)
            if key == _TOKEN_IDS_KEY:
                feature = value
    if feature is None:
        raise _NotTokenIds(keys)
    kind, pieces = None, []
    for number, wire_type, _, l_start, l_end in _fields(buffer, *feature):
        if number not in _KINDS or wire_type != 2:
            continue
        if number != kind:  # a oneof: the last kind set wins
            kind, pieces = number, []
        if number == 3:
            for number, wire_type, value, v_start, v_end in _fields(
                buffer, l_start, l_end
            ):
                if number != 1:
                    continue
                pieces.append(value if wire_type == 0 else (v_start, v_end))
    if kind != 3:
        raise _NotTokenIds(
            keys, "an empty Feature" if kind is None else _KINDS[kind]
        )
    return pieces


def _decode_spans(data, starts, ends):
    """Decodes the packed varints of the spans `data[start:end]` (in
    increasing order, not overlapping) all at once, vectorized.

    Returns:
        `(token_ids, counts)`: int32 ids of all spans, one after the other,
        and the int64 number of ids of each span.

    Raises:
        _Malformed: with `span`, the index of the first bad span found.
    """
    counts = np.zeros(len(starts), np.int64)
    spans = np.flatnonzero(ends > starts)
    if not spans.size:
        return np.zeros(0, np.int32), counts
    starts, ends = starts[spans], ends[spans]
    bad = np.flatnonzero(data[ends - 1] >= 0x80)
    if bad.size:
        raise _Malformed(
            "its packed token ids end inside a varint", span=spans[bad[0]]
        )
    low, high = int(starts[0]), int(ends[-1])
    region = data[low:high]
    if len(spans) > 1:  # only the bytes of the spans, not those between
        inside = np.zeros(high - low + 1, np.int8)
        inside[starts - low] = 1
        inside[ends - low] -= 1
        inside = np.cumsum(inside[:-1], dtype=np.int8) > 0
        region = np.where(inside, region, 0x80)
    last_bytes = np.flatnonzero(region < 0x80) + low
    span_first = np.searchsorted(last_bytes, starts)  # each span's first id
    counts[spans] = np.diff(np.append(span_first, len(last_bytes)))
    first_bytes = np.empty_like(last_bytes)
    first_bytes[1:] = last_bytes[:-1] + 1
    first_bytes[span_first] = starts  # every span holds an id
    lengths = last_bytes - first_bytes + 1

    def span_of(index):
        return spans[np.searchsorted(span_first, index, side="right") - 1]

    longest = int(lengths.max())
    if longest > 10:
        raise _Malformed(
            "a varint of its token ids is longer than 10 bytes",
            span=span_of(np.argmax(lengths > 10)),
        )
    # From the last byte (the most significant 7 bits) back to the first.
    # Ids below 2**28 (4 bytes) fit uint32.
    dtype = np.uint32 if longest <= 4 else np.uint64
    values = (data[last_bytes] & 0x7F).astype(dtype)
    seven = dtype(7)
    for back in range(1, longest):
        earlier = (data[last_bytes - back] & 0x7F).astype(dtype)
        values = np.where(lengths > back, (values << seven) | earlier, values)
    if longest > 4:
        bad = np.flatnonzero(values > _INT32_MAX)
        if bad.size:
            value = int(values[bad[0]].view(np.int64))
            raise _Malformed(
                f"token id {value} is not in [0, 2**31)",
                span=span_of(bad[0]),
            )
    return values.astype(np.int32), counts


def _parse_pieces(buffer, pieces):
    """int32 token ids of one record from its pieces (general path)."""
    data = np.frombuffer(buffer, np.uint8)
    parts = []
    for piece in pieces:
        if isinstance(piece, tuple):
            start, end = np.array(piece, np.int64).reshape(2, 1)
            ids, _ = _decode_spans(data, start, end)
            parts.append(ids)
        elif piece > _INT32_MAX:
            value = piece - 2**64 if piece >= 2**63 else piece
            raise _Malformed(f"token id {value} is not in [0, 2**31)")
        else:
            parts.append(np.array([piece], np.int32))
    return np.concatenate(parts) if parts else np.zeros(0, np.int32)


def parse_token_ids(record):
    """The token ids of one serialized `tf.train.Example` record.

    Decodes the protobuf wire format by hand: `Example.features` →
    `Features.feature["token_ids"]` → `Feature.int64_list` →
    `Int64List.value` (packed varints, as TensorFlow writes them, or
    unpacked).

    Args:
        record: bytes of one record (e.g. from `read_records`).

    Returns:
        An int32 NumPy array of the document's token ids.

    Raises:
        ValueError: naming the features found, if the record has no
            `token_ids` feature (with a hint when it holds Model Garden's
            `input_word_ids`), if that feature is not an int64_list, if an
            id is outside [0, 2**31), or if the record is not an Example.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data.record_files import parse_token_ids
    from tokdrop_keras.data.record_files import read_records
    from tokdrop_keras.data.record_files import write_token_id_records
    path = os.path.join(tempfile.mkdtemp(), "a.tfrecord")
    write_token_id_records(path, [[76, 362, 5, 30521]])
    (record,) = read_records(path)
    token_ids = parse_token_ids(record)
    assert token_ids.dtype == np.int32
    assert token_ids.tolist() == [76, 362, 5, 30521]
    try:
        parse_token_ids(b"")  # an Example without features
        raise AssertionError("a record without token ids was parsed")
    except ValueError as error:
        assert "'token_ids'" in str(error)
    ```
    """
    buffer = bytes(record)
    try:
        pieces = _token_id_pieces(buffer, 0, len(buffer))
        return _parse_pieces(buffer, pieces)
    except _NotTokenIds as error:
        raise ValueError(error.describe(None)) from None
    except _Malformed as error:
        raise ValueError(
            f"not a tf.train.Example of token ids: {error}."
        ) from None


def _block_documents(path, buffer, starts, lengths, first_index):
    """The int32 token ids of each record of a block, decoding the packed
    varints of all records at once."""

    def error(offset, message):
        return ValueError(
            f"{path}: record {first_index + offset} (counting from 0): "
            + message
        )

    num_records = len(starts)
    span_starts = np.zeros(num_records, np.int64)
    span_ends = np.zeros(num_records, np.int64)
    others = {}  # records not of one packed span (unpacked ids, say)
    records = zip(starts.tolist(), lengths.tolist())
    for offset, (start, length) in enumerate(records):
        try:
            pieces = _token_id_pieces(buffer, start, start + length)
            if len(pieces) == 1 and isinstance(pieces[0], tuple):
                span_starts[offset], span_ends[offset] = pieces[0]
            elif pieces:
                others[offset] = _parse_pieces(buffer, pieces)
        except _NotTokenIds as not_token_ids:
            raise error(offset, not_token_ids.describe(path)) from None
        except _Malformed as malformed:
            raise error(
                offset, f"not a tf.train.Example of token ids: {malformed}."
            ) from None
    data = np.frombuffer(buffer, np.uint8)
    try:
        token_ids, counts = _decode_spans(data, span_starts, span_ends)
    except _Malformed as malformed:
        raise error(
            int(malformed.span),
            f"not a tf.train.Example of token ids: {malformed}.",
        ) from None
    # Copies, so that a document kept does not keep the block's ids.
    split = np.split(token_ids, np.cumsum(counts)[:-1])
    documents = [ids.copy() for ids in split]
    for offset, document in others.items():
        documents[offset] = document
    return documents


# ------------------------------------------------------------------ files


def _match_files(file_patterns):
    if isinstance(file_patterns, (str, os.PathLike)):
        file_patterns = [file_patterns]
    files = []
    for pattern in map(os.fspath, file_patterns):
        if "://" in pattern:  # gs://...: tf.io.gfile, or a clear error
            import tokdrop_keras.filesystem as filesystem

            matches = filesystem.glob(pattern)
        else:
            matches = sorted(glob.glob(pattern))
        if not matches:
            raise ValueError(f"No file matches {pattern!r}.")
        files.extend(matches)
    return files


def _check_first_record(path):
    """Raises a ValueError naming `path` unless its first record is a
    token-id record (reading only the start of the file)."""
    blocks = _record_blocks(path, block_bytes=1 << 16)
    try:
        block = next(blocks, None)
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error}).") from None
    finally:
        blocks.close()
    if block is None:
        raise ValueError(f"{path}: the TFRecord file holds no record.")
    buffer, starts, lengths, _ = block
    start = int(starts[0])
    record = buffer[start : start + int(lengths[0])]
    try:
        _parse_pieces(record, _token_id_pieces(record, 0, len(record)))
    except _NotTokenIds as error:
        raise ValueError(f"{path}: " + error.describe(path)) from None
    except _Malformed as error:
        raise ValueError(
            f"{path}: record 0 is not a tf.train.Example of token ids "
            f"({error})."
        ) from None


def _documents(files):
    for path in files:
        for block in _record_blocks(path):
            yield from _block_documents(path, *block)


def token_id_documents(file_patterns):
    """The token ids of each document of token-id TFRecord files.

    Reads the files of `write_pretraining_tfrecords` without TensorFlow,
    one file after another in sorted order, records in file order.

    Args:
        file_patterns: a file name or glob, or a list of them. Remote
            paths (`gs://`) are read through `tokdrop_keras.filesystem`
            (`tf.io.gfile`: they need TensorFlow).

    Returns:
        An iterator of int32 NumPy arrays, one per document.

    Raises:
        ValueError: now, naming the file, if a pattern matches no file or
            a file's first record is not a token-id record (hinting at
            `model_garden:` for Model Garden records); while iterating,
            naming the file and the record, if a record is corrupt or not a
            token-id record.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data.record_files import token_id_documents
    from tokdrop_keras.data.record_files import write_token_id_records
    folder = tempfile.mkdtemp()
    write_token_id_records(
        os.path.join(folder, "train-00000-of-00002.tfrecord"), [[76, 362, 5]]
    )
    write_token_id_records(
        os.path.join(folder, "train-00001-of-00002.tfrecord"),
        [[543, 131, 4663, 17], []],
    )
    documents = token_id_documents(os.path.join(folder, "train-*.tfrecord"))
    assert [ids.tolist() for ids in documents] == [
        [76, 362, 5], [543, 131, 4663, 17], []
    ]
    try:
        token_id_documents(os.path.join(folder, "*.csv"))
        raise AssertionError("a pattern without a file was accepted")
    except ValueError as error:
        assert "No file matches" in str(error)
    ```
    """
    files = _match_files(file_patterns)
    for path in files:
        _check_first_record(path)
    return _documents(files)


# ----------------------------------------------------------------- writing


# Documents are serialized and checksummed in groups of this many.
_WRITE_GROUP = 1024


def _encode_varints(values):
    """`(bytes, number of bytes of each value)`: the varints of int64
    values (negatives as 10 bytes, as protobuf writes them), vectorized."""
    values = values.astype(np.uint64)
    num_bytes = np.ones(len(values), np.int64)
    remaining = values >> np.uint64(7)
    while remaining.any():
        num_bytes += remaining > 0
        remaining >>= np.uint64(7)
    offsets = np.cumsum(num_bytes) - num_bytes
    out = np.zeros(int(num_bytes.sum()), np.uint8)
    for k in range(int(num_bytes.max(initial=0))):
        selected = np.flatnonzero(num_bytes > k)
        chunk = (values[selected] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (num_bytes[selected] > k + 1).astype(np.uint64) << np.uint64(7)
        out[offsets[selected] + k] = (chunk | more).astype(np.uint8)
    return out.tobytes(), num_bytes


def _varint_bytes(value):
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(number, payload):
    key = _varint_bytes(number << 3 | 2)
    return key + _varint_bytes(len(payload)) + payload


def _token_ids_example(packed):
    """A serialized Example of one document, from its packed varints."""
    int64_list = _length_delimited(1, packed) if packed else b""
    feature = _length_delimited(3, int64_list)
    key = _length_delimited(1, _TOKEN_IDS_KEY)
    entry = key + _length_delimited(2, feature)
    return _length_delimited(1, _length_delimited(1, entry))


def _framed_group(documents):
    """The TFRecord bytes of a group of documents, checksummed at once."""
    arrays = [np.asarray(ids, np.int64).reshape(-1) for ids in documents]
    packed, num_bytes = _encode_varints(np.concatenate(arrays))
    # Where each document's bytes end.
    ends = np.concatenate([[0], np.cumsum(num_bytes)])
    ends = ends[np.cumsum([len(array) for array in arrays])].tolist()
    records, position = [], 0
    for end in ends:
        records.append(_token_ids_example(packed[position:end]))
        position = end
    lengths = np.array([len(record) for record in records], np.int64)
    data = np.frombuffer(b"".join(records), np.uint8)
    data_crcs = _mask_array(
        _crc32c_ranges(data, np.cumsum(lengths) - lengths, lengths)
    ).tolist()
    framed = []
    for record, data_crc in zip(records, data_crcs):
        length = struct.pack("<Q", len(record))
        framed += [length, struct.pack("<I", _mask(_crc32c(length))), record]
        framed.append(struct.pack("<I", data_crc))
    return b"".join(framed)


def write_token_id_records(path, documents):
    """Writes token-id records, as `write_pretraining_tfrecords` does,
    without TensorFlow.

    Each document becomes one serialized `tf.train.Example` with the
    feature `token_ids` (packed int64_list), framed as a TFRecord with
    masked CRC-32C checksums: `tf.data.TFRecordDataset` reads the file.

    Args:
        path: the TFRecord file to write (replaced if it exists).
        documents: iterable of sequences of int token ids.

    Returns:
        The number of records written.

    Example:
    ```python
    import tempfile
    from tokdrop_keras.data.record_files import token_id_documents
    from tokdrop_keras.data.record_files import write_token_id_records
    path = os.path.join(tempfile.mkdtemp(), "train-00000-of-00001.tfrecord")
    assert write_token_id_records(path, [[76, 362, 5], np.arange(3)]) == 2
    assert [ids.tolist() for ids in token_id_documents(path)] == [
        [76, 362, 5], [0, 1, 2]
    ]
    ```
    """
    count, group = 0, []
    with _open(path, "wb") as file:
        for token_ids in documents:
            group.append(token_ids)
            if len(group) == _WRITE_GROUP:
                file.write(_framed_group(group))
                count, group = count + len(group), []
        if group:
            file.write(_framed_group(group))
    return count + len(group)
