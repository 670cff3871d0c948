//! Every unary RPC of the four services, through the real server: any bytes as the request
//! message, sent over loopback gRPC by one of several callers (staff, a live member, a live
//! agency, internal services) to a sandbox on SQLite. The server must answer every call —
//! no panic, no hang — and never with INTERNAL or UNKNOWN, except for INTERNAL on bytes
//! that are not a protobuf message at all (how gRPC reports a request it cannot parse).
//!
//! Input: byte 0 picks the caller, byte 1 the RPC, the rest is the message.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use assay_tests::proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_tests::proto::registry::v1::MemberKind;
use assay_tests::{Backend, Sandbox, fixtures};
use bytes::{Buf, BufMut};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

struct World {
    runtime: tokio::runtime::Runtime,
    channel: Channel,
    /// Bearer tokens of the callers.
    callers: Vec<MetadataValue<tonic::metadata::Ascii>>,
    /// Request paths of every unary RPC.
    methods: Vec<String>,
    _sandbox: Sandbox,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (sandbox, channel, callers) = runtime.block_on(async {
        let sandbox = Sandbox::start_with(Backend::Sqlite, assay::ServiceName::ALL, |config| {
            // The fuzzer calls far faster than any one caller may.
            let fast = assay_common::config::Rate {
                per_second: 1_000_000,
                burst: 1_000_000,
            };
            config.server.rate_limits = assay_common::config::RateLimits {
                staff: fast,
                member: fast,
                agency: fast,
                service: fast,
            };
        })
        .await;
        let (member, agency) = tenants(&sandbox).await;
        let principals = [
            fixtures::ADMIN.to_owned(),
            fixtures::ANALYST.to_owned(),
            fixtures::LEGAL.to_owned(),
            format!("member:{member}"),
            format!("agency:{agency}"),
            "service:listing-pipeline".to_owned(),
            "service:seller-portal".to_owned(),
            "service:cases".to_owned(),
            "service:screening".to_owned(),
            "service:lawenforcement".to_owned(),
        ];
        let callers = principals
            .iter()
            .map(|p| {
                format!("Bearer {}", sandbox.token(p))
                    .parse()
                    .expect("header")
            })
            .collect();
        let channel = sandbox.channel().await;
        (sandbox, channel, callers)
    });
    World {
        runtime,
        channel,
        callers,
        methods: unary_methods(),
        _sandbox: sandbox,
    }
});

/// A live member and a live agency, so that tenants' calls reach the handlers.
async fn tenants(sandbox: &Sandbox) -> (String, String) {
    let mut admin = fixtures::registry(sandbox, fixtures::ADMIN).await;
    let member =
        fixtures::active_member(&mut admin, "Fuzz Brands SA", MemberKind::BrandOwner).await;
    let mut legal =
        LawEnforcementServiceClient::new(sandbox.as_principal(Some(fixtures::LEGAL)).await);
    let agency = fixtures::agency(&mut legal, "Fuzz Police", "FR", "police.example").await;
    (member.id, agency.id)
}

/// `/package.Service/Method` of every RPC that takes and returns one message.
fn unary_methods() -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(assay_tests::proto::FILE_DESCRIPTOR_SET)
        .expect("the contract's descriptor set");
    let mut methods = Vec::new();
    for file in &set.file {
        for service in &file.service {
            for method in &service.method {
                if !method.client_streaming() && !method.server_streaming() {
                    methods.push(format!(
                        "/{}.{}/{}",
                        file.package(),
                        service.name(),
                        method.name()
                    ));
                }
            }
        }
    }
    assert!(methods.len() > 90, "{} unary RPCs", methods.len());
    methods
}

fuzz_target!(|data: &[u8]| {
    let [caller, method, message @ ..] = data else {
        return;
    };
    let world = &*WORLD;
    let caller = world.callers[usize::from(*caller) % world.callers.len()].clone();
    let path = &world.methods[usize::from(*method) % world.methods.len()];
    let status = world.runtime.block_on(async {
        let mut grpc = tonic::client::Grpc::new(world.channel.clone());
        grpc.ready().await.expect("the channel is ready");
        let mut request = tonic::Request::new(message.to_vec());
        request.metadata_mut().insert("authorization", caller);
        request.set_timeout(Duration::from_secs(10));
        let path = path.parse().expect("a request path");
        match grpc.unary(request, path, Raw).await {
            Ok(_) => None,
            Err(status) => Some(status),
        }
    });
    if let Some(status) = status {
        let unparseable = status.code() == Code::Internal
            && status
                .message()
                .contains("failed to decode Protobuf message");
        assert!(
            !matches!(
                status.code(),
                Code::Internal | Code::Unknown | Code::DeadlineExceeded
            ) || unparseable,
            "{path}: {status:?}"
        );
        assert!(
            status.message().len() <= 8 * 1024,
            "{path}: an error of {} bytes",
            status.message().len()
        );
    }
});

/// Sends and receives message bytes as they are.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Self::Encoder {
        Raw
    }

    fn decoder(&mut self) -> Self::Decoder {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}
