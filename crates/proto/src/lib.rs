//! The generated code of Assay's contract (`proto/`), one module per protobuf package.

/// The encoded `FileDescriptorSet` of every Assay proto file, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/assay_descriptor.bin"));

pub mod message;

pub mod common {
    pub mod v1 {
        pub use crate::message::Message;
        tonic::include_proto!("assay.common.v1");
    }
}

pub mod registry {
    pub mod v1 {
        tonic::include_proto!("assay.registry.v1");
    }
}

pub mod screening {
    pub mod v1 {
        tonic::include_proto!("assay.screening.v1");
    }
}

pub mod cases {
    pub mod v1 {
        tonic::include_proto!("assay.cases.v1");
    }
}

pub mod lawenforcement {
    pub mod v1 {
        tonic::include_proto!("assay.lawenforcement.v1");
    }
}
