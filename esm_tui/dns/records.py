"""DNS records of the common types, read straight from a reply's bytes (for `reply.decode`).

The records of the common types (A, AAAA, TXT, MX, CNAME, NS, PTR, SOA) are read here
into `Record`s: light objects with the attributes dnspython's rdata has (`address`,
`strings`, `preference`/`exchange`, `target`, the SOA fields), names as `dns.name.Name`.
Building dnspython's immutable rdata and Name objects was most of what was left of the
decoding cost (≈ 40 µs per reply on the benchmark machine, profiled). Anything else a
record is asked for (`to_wire`, rarer attributes, `to_text` with arguments) comes from
the dnspython rdata of the same bytes, built on first use. A record these rules do not
cover (an A that is not 4 bytes, a name running out of its record, an empty TXT) makes
the whole reply go to dnspython, as any other doubt does.
"""

from __future__ import annotations

import struct
from typing import Any

import dns.exception
import dns.ipv6
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from esm_tui.dns.names import make_name, name_text, name_wire, read_name


class Record:
    """A record of a common type read by `reply.decode` (see the module's docstring).

    Its attributes are dnspython's for the type; anything else is dnspython's rdata of
    the same bytes (`rdata()`), built on first use. Equal and hashed as that rdata is:
    by its canonical form (RFC 4034 §6.2).
    """

    __slots__ = ("_at", "_rdata", "_size", "_wire")
    rdclass = dns.rdataclass.IN
    rdtype: dns.rdatatype.RdataType

    def __init__(self, wire: bytes, at: int, size: int) -> None:
        self._wire = wire
        self._at = at
        self._size = size
        self._rdata: dns.rdata.Rdata | None = None

    def rdata(self) -> dns.rdata.Rdata:
        """dnspython's rdata for the same bytes."""
        if self._rdata is None:
            self._rdata = dns.rdata.from_wire(
                self.rdclass, self.rdtype, self._wire, self._at, self._size
            )
        return self._rdata

    def __getattr__(self, name: str) -> Any:
        # Only called for what the class does not define: dnspython's attributes.
        if name.startswith("__") or name in Record.__slots__:
            raise AttributeError(name)
        return getattr(self.rdata(), name)

    def to_text(
        self, origin: dns.name.Name | None = None, relativize: bool = True, **kw: Any
    ) -> str:
        return self.rdata().to_text(origin, relativize, **kw)

    def to_wire(self, *args: Any, **kw: Any) -> bytes | None:
        return self.rdata().to_wire(*args, **kw)

    def digest(self) -> bytes:
        """The canonical form, as dnspython's `to_digestable()`: types without names
        inside are their wire form."""
        return self._wire[self._at : self._at + self._size]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self.rdtype == other.rdtype and self.digest() == other.digest()
        if isinstance(other, dns.rdata.Rdata):
            return self.rdata() == other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self.digest())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_text()}>"


class A(Record):
    __slots__ = ("address",)
    rdtype = dns.rdatatype.A

    def __init__(self, wire: bytes, at: int, size: int) -> None:
        super().__init__(wire, at, size)
        if size != 4:
            raise dns.exception.FormError
        self.address = f"{wire[at]}.{wire[at + 1]}.{wire[at + 2]}.{wire[at + 3]}"

    def to_text(
        self, origin: dns.name.Name | None = None, relativize: bool = True, **kw: Any
    ) -> str:
        return self.address if not kw else super().to_text(origin, relativize, **kw)


class AAAA(Record):
    __slots__ = ("address",)
    rdtype = dns.rdatatype.AAAA

    def __init__(self, wire: bytes, at: int, size: int) -> None:
        super().__init__(wire, at, size)
        if size != 16:
            raise dns.exception.FormError
        self.address = dns.ipv6.inet_ntoa(wire[at : at + 16])  # dnspython's own text form

    def to_text(
        self, origin: dns.name.Name | None = None, relativize: bool = True, **kw: Any
    ) -> str:
        return self.address if not kw else super().to_text(origin, relativize, **kw)


class TXT(Record):
    __slots__ = ("strings",)
    rdtype = dns.rdatatype.TXT

    def __init__(self, wire: bytes, at: int, size: int) -> None:
        super().__init__(wire, at, size)
        end = at + size
        strings = []
        while at < end:
            length = wire[at]
            at += 1
            if at + length > end:
                raise dns.exception.FormError
            strings.append(wire[at : at + length])
            at += length
        if not strings:
            raise dns.exception.FormError  # dnspython refuses a TXT without strings
        self.strings = tuple(strings)


class MX(Record):
    __slots__ = ("exchange", "preference")
    rdtype = dns.rdatatype.MX

    def __init__(self, wire: bytes, at: int, size: int) -> None:
        super().__init__(wire, at, size)
        end = at + size
        if size < 3:
            raise dns.exception.FormError
        self.preference = wire[at] * 256 + wire[at + 1]
        labels, after = read_name(wire, at + 2, end)
        if after != end:
            raise dns.exception.FormError
        self.exchange = make_name(tuple(labels))

    def to_text(
        self, origin: dns.name.Name | None = None, relativize: bool = True, **kw: Any
    ) -> str:
        if origin is not None or kw:
            return super().to_text(origin, relativize, **kw)
        return f"{self.preference} {name_text(self.exchange)}"

    def digest(self) -> bytes:
        return self.preference.to_bytes(2, "big") + name_wire(self.exchange)


class _Target(Record):
    """CNAME, NS and PTR: one name."""

    __slots__ = ("target",)

    def __init__(self, wire: bytes, at: int, size: int) -> None:
        super().__init__(wire, at, size)
        labels, after = read_name(wire, at, at + size)
        if after != at + size:
            raise dns.exception.FormError
        self.target = make_name(tuple(labels))

    def to_text(
        self, origin: dns.name.Name | None = None, relativize: bool = True, **kw: Any
    ) -> str:
        if origin is not None or kw:
            return super().to_text(origin, relativize, **kw)
        return str(self.target)

    def digest(self) -> bytes:
        return name_wire(self.target)


class CNAME(_Target):
    __slots__ = ()
    rdtype = dns.rdatatype.CNAME


class NS(_Target):
    __slots__ = ()
    rdtype = dns.rdatatype.NS


class PTR(_Target):
    __slots__ = ()
    rdtype = dns.rdatatype.PTR


class SOA(Record):
    __slots__ = ("expire", "minimum", "mname", "refresh", "retry", "rname", "serial")
    rdtype = dns.rdatatype.SOA

    def __init__(self, wire: bytes, at: int, size: int) -> None:
        super().__init__(wire, at, size)
        end = at + size
        mname, at = read_name(wire, at, end)
        rname, at = read_name(wire, at, end)
        if at + _SOA_NUMBERS.size != end:
            raise dns.exception.FormError
        self.mname = make_name(tuple(mname))
        self.rname = make_name(tuple(rname))
        (self.serial, self.refresh, self.retry, self.expire, self.minimum) = (
            _SOA_NUMBERS.unpack_from(wire, at)
        )

    def digest(self) -> bytes:
        end = self._at + self._size
        numbers = self._wire[end - _SOA_NUMBERS.size : end]
        return name_wire(self.mname) + name_wire(self.rname) + numbers


_SOA_NUMBERS = struct.Struct("!IIIII")
#: The types read into `Record`s (class IN only; anything else goes to dnspython).
RECORDS: dict[int, type[Record]] = {
    cls.rdtype: cls for cls in (A, AAAA, TXT, MX, CNAME, NS, PTR, SOA)
}


def decode_record(rdata: dns.rdata.Rdata) -> Record:
    """The `Record` for a dnspython rdata of a type in `RECORDS` (for tests and tools)."""
    wire = rdata.to_wire()
    assert wire is not None
    return RECORDS[rdata.rdtype](wire, 0, len(wire))
