//! The Go types relic v8 (`lib/pkcs7`, `lib/pkcs9`) and `crypto/x509/pkix`
//! decode PKCS #7 and RFC 3161 structures into, field by field with their
//! `asn1:"…"` tags, as [`goasn1`](super::goasn1) schemas.

use super::goasn1::{Field, Struct, Ty};

/// `pkix.AlgorithmIdentifier`.
static ALGORITHM_IDENTIFIER: Struct = Struct {
    raw_content: false,
    fields: &[Field::new(Ty::Oid), Field::new(Ty::Raw).optional()],
};
const ALGORITHM: Ty = Ty::Struct(&ALGORITHM_IDENTIFIER);

/// relic `pkcs7.ContentInfo`: raw content plus the content type.
static CONTENT_INFO: Struct = Struct {
    raw_content: true,
    fields: &[Field::new(Ty::Oid)],
};

/// relic `contentInfo2`, used to re-read a content info's value.
pub static CONTENT_INFO_WITH_VALUE: Ty = Ty::Struct(&Struct {
    raw_content: false,
    fields: &[Field::new(Ty::Oid), Field::new(Ty::Raw)],
});

/// relic `pkcs7.Attribute` / `AttributeList`.
static ATTRIBUTE: Ty = Ty::Struct(&Struct {
    raw_content: false,
    fields: &[Field::new(Ty::Oid), Field::new(Ty::Raw)],
});
const ATTRIBUTE_LIST: Ty = Ty::Slice {
    elem: &ATTRIBUTE,
    set_named: false,
};

/// relic `pkcs7.SignerInfo` (re-marshalled from its raw content).
static SIGNER_INFO: Ty = Ty::Struct(&Struct {
    raw_content: true,
    fields: &[
        Field::new(Ty::Int).default(1),
        Field::new(Ty::Struct(&Struct {
            raw_content: false,
            fields: &[Field::new(Ty::Raw), Field::new(Ty::BigInt)],
        })),
        Field::new(ALGORITHM),
        Field::new(ATTRIBUTE_LIST).optional().tag(0),
        Field::new(ALGORITHM),
        Field::new(Ty::Bytes),
        Field::new(ATTRIBUTE_LIST).optional().tag(1),
    ],
});

/// `pkix.Extension`.
static EXTENSION: Ty = Ty::Struct(&Struct {
    raw_content: false,
    fields: &[
        Field::new(Ty::Oid),
        Field::new(Ty::Bool).optional(),
        Field::new(Ty::Bytes),
    ],
});
const EXTENSIONS: Ty = Ty::Slice {
    elem: &EXTENSION,
    set_named: false,
};

/// `pkix.AttributeTypeAndValue`, `RelativeDistinguishedNameSET`,
/// `RDNSequence`.
static ATTRIBUTE_TYPE_AND_VALUE: Ty = Ty::Struct(&Struct {
    raw_content: false,
    fields: &[Field::new(Ty::Oid), Field::new(Ty::Any)],
});
static RDN_SET: Ty = Ty::Slice {
    elem: &ATTRIBUTE_TYPE_AND_VALUE,
    set_named: true,
};
const RDN_SEQUENCE: Ty = Ty::Slice {
    elem: &RDN_SET,
    set_named: false,
};

/// `pkix.RevokedCertificate`.
static REVOKED_CERTIFICATE: Ty = Ty::Struct(&Struct {
    raw_content: false,
    fields: &[
        Field::new(Ty::BigInt),
        Field::new(Ty::Time),
        Field::new(EXTENSIONS).optional(),
    ],
});

/// `pkix.CertificateList` (its TBS part is re-marshalled from raw content).
static CERTIFICATE_LIST: Ty = Ty::Struct(&Struct {
    raw_content: false,
    fields: &[
        Field::new(Ty::Struct(&Struct {
            raw_content: true,
            fields: &[
                Field::new(Ty::Int).optional().default(0),
                Field::new(ALGORITHM),
                Field::new(RDN_SEQUENCE),
                Field::new(Ty::Time),
                Field::new(Ty::Time).optional(),
                Field::new(Ty::Slice {
                    elem: &REVOKED_CERTIFICATE,
                    set_named: false,
                })
                .optional(),
                Field::new(EXTENSIONS).tag(0).optional().explicit(),
            ],
        })),
        Field::new(ALGORITHM),
        Field::new(Ty::BitString),
    ],
});

/// Index of `ContentInfo` among [`SIGNED_DATA`]'s fields.
pub const SIGNED_DATA_CONTENT_INFO: usize = 2;

/// relic `pkcs7.SignedData`.
static SIGNED_DATA: Struct = Struct {
    raw_content: false,
    fields: &[
        Field::new(Ty::Int).default(1),
        Field::new(Ty::Slice {
            elem: &ALGORITHM,
            set_named: false,
        })
        .set(),
        Field::new(Ty::Struct(&CONTENT_INFO)),
        Field::new(Ty::Slice {
            elem: &Ty::Raw,
            set_named: false,
        })
        .optional()
        .tag(0),
        Field::new(Ty::Slice {
            elem: &CERTIFICATE_LIST,
            set_named: false,
        })
        .optional()
        .tag(1),
        Field::new(Ty::Slice {
            elem: &SIGNER_INFO,
            set_named: false,
        })
        .set(),
    ],
};

/// relic `pkcs7.ContentInfoSignedData`.
pub static CONTENT_INFO_SIGNED_DATA: Ty = Ty::Struct(&Struct {
    raw_content: false,
    fields: &[
        Field::new(Ty::Oid),
        Field::new(Ty::Struct(&SIGNED_DATA))
            .explicit()
            .optional()
            .tag(0),
    ],
});

/// relic `pkcs9.TimeStampResp`.
pub static TIME_STAMP_RESP: Ty = Ty::Struct(&Struct {
    raw_content: false,
    fields: &[
        Field::new(Ty::Struct(&Struct {
            raw_content: false,
            fields: &[
                Field::new(Ty::Int),
                Field::new(Ty::Slice {
                    elem: &Ty::Str,
                    set_named: false,
                })
                .optional(),
                Field::new(Ty::BitString).optional(),
            ],
        })),
        Field::new(CONTENT_INFO_SIGNED_DATA).optional(),
    ],
});
