"""The properties of the rendered Helm chart that operators rely on.

Usage: test_chart.py TRIAL.yaml PRODUCTION.yaml   (deploy/check renders both)
With ASSAY_BIN set to an assay binary, the configuration the chart renders is also
loaded by that binary, which refuses unknown or invalid keys.
"""

import os
import subprocess
import sys
import tempfile
import tomllib
import unittest

import yaml

SERVICES = {
    "registry": "assay.registry.v1.RegistryService",
    "screening": "assay.screening.v1.ScreeningService",
    "cases": "assay.cases.v1.CasesService",
    "lawenforcement": "assay.lawenforcement.v1.LawEnforcementService",
}
# Who may call whom: every other service admitted by each one's NetworkPolicy.
CALLERS = {
    "registry": {"screening", "cases"},
    "screening": {"cases", "lawenforcement"},
    "cases": {"screening", "lawenforcement"},
    "lawenforcement": {"screening", "cases"},
}
GRPC_PORT = 50051
HEALTH_PORT = 8081
METRICS_PORT = 9464


def load(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    objects = {}
    for d in docs:
        key = (d["kind"], d["metadata"]["name"])
        # An object rendered twice (in a loop by mistake) is applied once, silently.
        if key in objects:
            raise AssertionError(f"{key[0]} {key[1]} is rendered more than once in {path}")
        objects[key] = d
    return objects


def seconds(duration):
    """A humantime duration of the form the chart uses: "20s", "5s", "1m"."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in sorted(units, key=len, reverse=True):
        if duration.endswith(unit):
            return float(duration[: -len(unit)]) * units[unit]
    raise ValueError(duration)


class Chart:
    def __init__(self, path):
        self.path = path
        self.objects = load(path)

    def get(self, kind, name):
        found = self.objects.get((kind, name))
        if found is None:
            raise AssertionError(f"{kind} {name} is not in {self.path}")
        return found

    def of_kind(self, kind):
        return [o for (k, _), o in self.objects.items() if k == kind]

    def config(self):
        return tomllib.loads(self.get("ConfigMap", "assay-config")["data"]["assay.toml"])


class RenderedChart(unittest.TestCase):
    charts = []

    def each(self):
        return self.charts

    def test_every_service_has_its_deployment_service_budget_and_autoscaler(self):
        for chart in self.each():
            for name in SERVICES:
                full = f"assay-{name}"
                deployment = chart.get("Deployment", full)
                selector = deployment["spec"]["selector"]["matchLabels"]
                self.assertEqual(selector["app.kubernetes.io/component"], name)
                service = chart.get("Service", full)
                self.assertEqual(service["spec"]["selector"], selector)
                self.assertEqual(service["spec"]["ports"][0]["port"], GRPC_PORT)
                pdb = chart.get("PodDisruptionBudget", full)
                self.assertEqual(pdb["spec"]["selector"]["matchLabels"], selector)
                self.assertGreaterEqual(pdb["spec"]["minAvailable"], 1)
                hpa = chart.get("HorizontalPodAutoscaler", full)
                self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"], full)
                self.assertGreaterEqual(hpa["spec"]["minReplicas"], 2)
                self.assertGreater(hpa["spec"]["maxReplicas"], hpa["spec"]["minReplicas"])

    def test_pods_run_one_service_with_grpc_probes_and_bounded_resources(self):
        for chart in self.each():
            for name, grpc_service in SERVICES.items():
                pod = chart.get("Deployment", f"assay-{name}")["spec"]["template"]["spec"]
                (container,) = pod["containers"]
                self.assertEqual(container["args"][:2], ["serve", name])
                # Probes ask the plaintext health port, which works with TLS on the main one.
                readiness = container["readinessProbe"]["grpc"]
                self.assertEqual(readiness, {"port": HEALTH_PORT, "service": grpc_service})
                for probe in ("livenessProbe", "startupProbe"):
                    self.assertEqual(container[probe]["grpc"], {"port": HEALTH_PORT, "service": "liveness"})
                self.assertEqual(chart.config()["server"]["health_listen"], f"0.0.0.0:{HEALTH_PORT}")
                for bound in ("requests", "limits"):
                    self.assertEqual(set(container["resources"][bound]), {"cpu", "memory"})

    def test_containers_are_non_root_and_read_only(self):
        for chart in self.each():
            pods = [d["spec"]["template"]["spec"] for d in chart.of_kind("Deployment")]
            pods += [j["spec"]["template"]["spec"] for j in chart.of_kind("Job")]
            self.assertEqual(len(pods), len(SERVICES) + 1)
            for pod in pods:
                self.assertTrue(pod["securityContext"]["runAsNonRoot"])
                self.assertNotEqual(pod["securityContext"]["runAsUser"], 0)
                self.assertFalse(pod["automountServiceAccountToken"])
                for container in pod["containers"]:
                    context = container["securityContext"]
                    self.assertTrue(context["readOnlyRootFilesystem"])
                    self.assertFalse(context["allowPrivilegeEscalation"])
                    self.assertEqual(context["capabilities"]["drop"], ["ALL"])

    def test_termination_outlasts_the_drain(self):
        for chart in self.each():
            server = chart.config()["server"]
            drain = seconds(server["shutdown_delay"]) + seconds(server["shutdown_grace"])
            for name in SERVICES:
                pod = chart.get("Deployment", f"assay-{name}")["spec"]["template"]["spec"]
                self.assertGreater(pod["terminationGracePeriodSeconds"], drain)

    def test_configuration_comes_from_the_config_map_and_secrets(self):
        for chart in self.each():
            config = chart.config()
            self.assertEqual(config["listen"], f"0.0.0.0:{GRPC_PORT}")
            self.assertFalse(config["auth"]["generate_secrets"])
            self.assertFalse(config["auth"]["bootstrap_token"])
            jwt = config["auth"]["jwt"]
            self.assertTrue(jwt["signing_key_file"].startswith("/etc/assay/secrets/"))
            self.assertNotIn("hs256_secret_file", jwt, "no shared secret signs tokens")
            # Each service's public key names that service and nothing else.
            trusted = {k["kid"]: k for k in jwt["trusted_keys"]}
            for name in SERVICES:
                self.assertEqual(trusted[name]["principals"], [f"service:{name}"])
                self.assertEqual(trusted[name]["algorithm"], "EdDSA")
            scheme = "https" if "tls" in config["server"] else "http"
            self.assertEqual(config["screening"]["registry_endpoint"], f"{scheme}://assay-registry:{GRPC_PORT}")
            self.assertEqual(config["cases"]["lawenforcement_endpoint"], f"{scheme}://assay-lawenforcement:{GRPC_PORT}")
            self.assertEqual(config["lawenforcement"]["cases_endpoint"], f"{scheme}://assay-cases:{GRPC_PORT}")
            job = chart.get("Job", "assay-migrate")["spec"]["template"]["spec"]
            (migrate,) = job["containers"]
            urls = [e for e in migrate["env"] if e["name"].endswith("__DATABASE_URL")]
            self.assertEqual(len(urls), len(SERVICES), "migrations reach every database")
            for variable in urls:
                self.assertNotIn("value", variable, "database URLs come from the Secret only")
                self.assertIn("secretKeyRef", variable["valueFrom"])

    def test_each_pod_gets_only_its_own_database_and_keys(self):
        for chart in self.each():
            for name in SERVICES:
                pod = chart.get("Deployment", f"assay-{name}")["spec"]["template"]["spec"]
                (container,) = pod["containers"]
                env = {e["name"]: e for e in container["env"]}
                urls = [k for k in env if k.endswith("__DATABASE_URL")]
                self.assertEqual(urls, [f"ASSAY_{name.upper()}__DATABASE_URL"], name)
                self.assertEqual(
                    env[urls[0]]["valueFrom"]["secretKeyRef"]["key"], f"{name}-database-url"
                )
                self.assertEqual(env["ASSAY_AUTH__JWT__SIGNING_KEY_ID"]["value"], name)
                self.assertEqual(
                    env["ASSAY_AUTH__JWT__SIGNING_KEY_PRINCIPALS"]["value"], f'["service:{name}"]'
                )
                (secrets,) = [v for v in pod["volumes"] if v["name"] == "secrets"]
                keys = {item["key"] for item in secrets["secret"]["items"]}
                expected = {f"{name}-signing-key", "page-token-secret"}
                if name == "lawenforcement":
                    expected.add("lawenforcement-audit-key")
                if "object_store" in chart.config()["documents"] and name in (
                    "registry",
                    "lawenforcement",
                ):
                    expected.add("documents-s3-secret-key")
                self.assertEqual(keys, expected, name)

    def test_documents_stay_in_the_databases_unless_an_object_store_is_named(self):
        trial, production = self.each()
        self.assertNotIn("object_store", trial.config()["documents"])
        store = production.config()["documents"]["object_store"]
        self.assertEqual(store["bucket"], "assay-documents")
        self.assertEqual(
            store["secret_access_key_file"], "/etc/assay/secrets/documents-s3-secret-key"
        )

    def test_migrations_run_once_per_release_before_the_pods(self):
        for chart in self.each():
            job = chart.get("Job", "assay-migrate")
            hooks = job["metadata"]["annotations"]
            self.assertEqual(hooks["helm.sh/hook"], "pre-install,pre-upgrade")
            (container,) = job["spec"]["template"]["spec"]["containers"]
            self.assertEqual(container["args"][0], "migrate")
            # The release's own configuration and secrets are release resources, not hooks:
            # in the release, removed on uninstall, restored on rollback.
            for kind, name in [("ConfigMap", "assay-config"), ("Secret", "assay-secrets")]:
                if (kind, name) in chart.objects:
                    annotations = chart.get(kind, name)["metadata"].get("annotations", {})
                    self.assertNotIn("helm.sh/hook", annotations, f"{kind} {name}")
            # What the Job reads exists before it runs: the operator's Secret, or a hook copy
            # made first, holding the database URLs and nothing else.
            secrets = {
                e["valueFrom"]["secretKeyRef"]["name"]
                for e in container["env"]
                if "valueFrom" in e
            }
            (secret,) = secrets
            if ("Secret", "assay-secrets") in chart.objects:
                copy = chart.get("Secret", secret)
                self.assertEqual(secret, "assay-migrate-secrets")
                annotations = copy["metadata"]["annotations"]
                self.assertIn("pre-install", annotations["helm.sh/hook"])
                self.assertLess(
                    int(annotations["helm.sh/hook-weight"]), int(hooks["helm.sh/hook-weight"])
                )
                self.assertTrue(all(k.endswith("-database-url") for k in copy["stringData"]))
            volumes = job["spec"]["template"]["spec"].get("volumes", [])
            self.assertFalse([v for v in volumes if "configMap" in v], "no release ConfigMap")

    def test_each_service_is_called_only_by_those_that_need_it(self):
        for chart in self.each():
            agencies_enabled = ("Ingress", "assay-lawenforcement") in chart.objects
            for name in SERVICES:
                policy = chart.get("NetworkPolicy", f"assay-{name}")
                self.assertEqual(policy["spec"]["policyTypes"][0], "Ingress")
                rule, health, scrape = policy["spec"]["ingress"]
                self.assertEqual(rule["ports"], [{"port": "grpc", "protocol": "TCP"}])
                # `helm test` pods reach the health port, and nothing else does.
                self.assertEqual(health["ports"], [{"port": "health", "protocol": "TCP"}])
                (tester,) = health["from"]
                self.assertEqual(
                    tester["podSelector"]["matchLabels"]["app.kubernetes.io/component"], "test"
                )
                # Only Prometheus reaches the metrics port, and it reaches nothing else.
                self.assertEqual(scrape["ports"], [{"port": "metrics", "protocol": "TCP"}])
                (scraper,) = scrape["from"]
                self.assertEqual(set(scraper), {"namespaceSelector"})
                peers = {
                    p["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                    for p in rule["from"]
                    if "namespaceSelector" not in p
                }
                self.assertEqual(peers, CALLERS[name])
                outside = [p for p in rule["from"] if "namespaceSelector" in p and "podSelector" not in p]
                # Agencies, through the ingress controller, reach law enforcement only.
                expected = 1 if name == "lawenforcement" and agencies_enabled else 0
                self.assertEqual(len(outside), expected, f"{name}: {outside}")

    def test_pods_call_out_only_where_they_must(self):
        trial = next(c for c in self.charts if "production" not in c.path)
        for policy in trial.of_kind("NetworkPolicy"):
            # Off unless asked: where the database is differs by cluster.
            self.assertEqual(policy["spec"]["policyTypes"], ["Ingress"])
            self.assertNotIn("egress", policy["spec"])
        production = next(c for c in self.charts if "production" in c.path)
        dns_ports = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]

        def egress(name):
            policy = production.get("NetworkPolicy", name)
            self.assertEqual(policy["spec"]["policyTypes"], ["Ingress", "Egress"], name)
            rules = policy["spec"]["egress"]
            self.assertEqual(rules[0]["ports"], dns_ports, name)
            (dns,) = rules[0]["to"]
            self.assertEqual(set(dns), {"namespaceSelector"})
            return rules[1:]

        # The operator's rules (PostgreSQL and the collector in values-production.yaml).
        database, collector = egress("assay-migrate")
        self.assertEqual(database["ports"], [{"port": 5432, "protocol": "TCP"}])
        self.assertEqual(collector["ports"], [{"port": 4317, "protocol": "TCP"}])
        for name in SERVICES:
            *peers, database_rule, collector_rule = egress(f"assay-{name}")
            self.assertEqual((database_rule, collector_rule), (database, collector))
            # Exactly the services that admit it, on their gRPC port.
            callees = set()
            for peer in peers:
                self.assertEqual(peer["ports"], [{"port": "grpc", "protocol": "TCP"}])
                (target,) = peer["to"]
                selector = target["podSelector"]["matchLabels"]
                callees.add(selector["app.kubernetes.io/component"])
            self.assertEqual(callees, {c for c, callers in CALLERS.items() if name in callers}, name)
        # `helm test` reaches the health ports and nothing else.
        (health,) = egress("assay-test")
        self.assertEqual(health["ports"], [{"port": "health", "protocol": "TCP"}])
        (pods,) = health["to"]
        self.assertEqual(set(pods["podSelector"]["matchLabels"]), {"app.kubernetes.io/name", "app.kubernetes.io/instance"})

    def test_helm_test_asks_each_service_its_health(self):
        for chart in self.each():
            for name in SERVICES:
                pod = chart.get("Pod", f"assay-test-{name}")
                self.assertEqual(pod["metadata"]["annotations"]["helm.sh/hook"], "test")
                (container,) = pod["spec"]["containers"]
                args = container["args"]
                self.assertEqual((args[0], args[-2], args[-1]), ("admin", "health", name))
                self.assertIn(f"http://assay-{name}:{HEALTH_PORT}", args)
            self.assertIn(("NetworkPolicy", "assay-test"), chart.objects)

    def test_agencies_enter_through_an_ingress_to_law_enforcement_only(self):
        production = next(c for c in self.charts if "production" in c.path)
        ingress = production.get("Ingress", "assay-lawenforcement")
        (rule,) = ingress["spec"]["rules"]
        backends = {p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
        self.assertEqual(backends, {"assay-lawenforcement"})
        self.assertTrue(ingress["spec"]["tls"])
        self.assertEqual([k for k, _ in production.objects if k == "Ingress"], ["Ingress"])

    def test_metrics_are_served_for_prometheus(self):
        for chart in self.each():
            self.assertEqual(chart.config()["server"]["metrics_listen"], f"0.0.0.0:{METRICS_PORT}")
            for name in SERVICES:
                template = chart.get("Deployment", f"assay-{name}")["spec"]["template"]
                (container,) = template["spec"]["containers"]
                ports = {p["name"]: p["containerPort"] for p in container["ports"]}
                self.assertEqual(ports, {"grpc": GRPC_PORT, "health": HEALTH_PORT, "metrics": METRICS_PORT})
                annotations = template["metadata"]["annotations"]
                self.assertEqual(annotations["prometheus.io/port"], str(METRICS_PORT))

    def test_production_runs_mutual_tls_with_a_certificate_per_service(self):
        production = next(c for c in self.charts if "production" in c.path)
        config = production.config()
        self.assertTrue(config["server"]["tls"]["require_client_cert"])
        self.assertEqual(config["server"]["tls"]["client_ca_file"], "/etc/assay/tls/ca.crt")
        self.assertEqual(config["auth"]["peer_tls"]["cert_file"], "/etc/assay/tls/tls.crt")
        for name in SERVICES:
            pod = production.get("Deployment", f"assay-{name}")["spec"]["template"]["spec"]
            secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
            self.assertIn(f"assay-{name}-tls", secrets)
        ingress = production.get("Ingress", "assay-lawenforcement")
        self.assertEqual(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"], "GRPCS")

    def test_the_production_image_is_pinned_by_digest(self):
        production = next(c for c in self.charts if "production" in c.path)
        for deployment in production.of_kind("Deployment"):
            (container,) = deployment["spec"]["template"]["spec"]["containers"]
            self.assertIn("@sha256:", container["image"])

    @unittest.skipUnless(os.environ.get("ASSAY_BIN"), "ASSAY_BIN names no assay binary")
    def test_the_binary_accepts_the_rendered_configuration(self):
        for chart in self.each():
            text = chart.get("ConfigMap", "assay-config")["data"]["assay.toml"]
            with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
                f.write(text)
                f.flush()
                # ASSAY_* variables are configuration to the binary: pass none.
                env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
                run = subprocess.run(
                    [os.environ["ASSAY_BIN"], "config", "--config", f.name],
                    capture_output=True,
                    text=True,
                    env=env,
                )
            self.assertEqual(run.returncode, 0, f"{chart.path}: {run.stderr}")
            self.assertIn("lawenforcement_endpoint", run.stdout)


if __name__ == "__main__":
    RenderedChart.charts = [Chart(path) for path in sys.argv[1:]]
    if len(RenderedChart.charts) != 2:
        sys.exit("usage: test_chart.py TRIAL.yaml PRODUCTION.yaml")
    unittest.main(argv=[sys.argv[0], "-v"])
