//! `grpc.health.v1.Health` as its specification says, over tonic-health's reporter: a
//! `Watch` of a service the server does not know answers `SERVICE_UNKNOWN` and stays open
//! (tonic-health ends it with NOT_FOUND, which health-checking clients treat as a broken
//! server rather than a wrong name). `Check` is tonic-health's: NOT_FOUND for an unknown
//! service, as the specification says.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tonic::{Code, Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health as HealthApi, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::{HealthReporter, HealthService};

/// The health service answering for `reporter`'s statuses.
pub fn health_server(reporter: HealthReporter) -> HealthServer<Health> {
    HealthServer::new(Health {
        inner: HealthService::from_health_reporter(reporter),
    })
}

pub struct Health {
    inner: HealthService,
}

type Watching = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl HealthApi for Health {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        self.inner.check(request).await
    }

    type WatchStream = Watching;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Watching>, Status> {
        match self.inner.watch(request).await {
            Ok(known) => Ok(Response::new(known.into_inner().boxed())),
            Err(status) if status.code() == Code::NotFound => {
                let unknown = HealthCheckResponse {
                    status: ServingStatus::ServiceUnknown as i32,
                };
                // Services are all registered at start, so an unknown one stays unknown;
                // the stream stays open until the client lets it go.
                Ok(Response::new(
                    futures::stream::once(async move { Ok(unknown) })
                        .chain(futures::stream::pending())
                        .boxed(),
                ))
            }
            Err(status) => Err(status),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tonic_health::pb::health_client::HealthClient;

    use super::*;

    #[tokio::test]
    async fn an_unknown_service_is_watched_as_unknown_and_a_known_one_as_it_is() {
        let reporter = HealthReporter::new();
        reporter
            .set_service_status("assay.x.v1.X", tonic_health::ServingStatus::Serving)
            .await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(health_server(reporter))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = HealthClient::new(channel);
        let ask = |service: &str| HealthCheckRequest {
            service: service.to_owned(),
        };

        let mut unknown = client.watch(ask("nope")).await.unwrap().into_inner();
        let first = unknown.message().await.unwrap().unwrap();
        assert_eq!(first.status(), ServingStatus::ServiceUnknown);
        assert!(
            tokio::time::timeout(Duration::from_millis(200), unknown.message())
                .await
                .is_err(),
            "the watch stays open"
        );

        let mut known = client
            .watch(ask("assay.x.v1.X"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            known.message().await.unwrap().unwrap().status(),
            ServingStatus::Serving
        );
        let checked = client.check(ask("nope")).await.unwrap_err();
        assert_eq!(checked.code(), Code::NotFound);
    }
}
