"""The one settings object, read from ``CUSTOMS_WATCH_*`` environment variables and CLI flags.

Nested groups map to variables by their first underscore: ``CUSTOMS_WATCH_KAFKA_BOOTSTRAP``
sets ``kafka.bootstrap``, ``CUSTOMS_WATCH_CLICKHOUSE_DSN`` sets ``clickhouse.dsn``,
``CUSTOMS_WATCH_TOPICS_SOURCES=jsonl,demo`` sets ``topics.sources``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class KafkaSettings(BaseModel):
    """Client settings for every Kafka connection (producers, admin, faust)."""

    model_config = ConfigDict(frozen=True)

    bootstrap: str = Field(default="127.0.0.1:9092", description="host:port[,host:port...]")
    client_id: str = "customs-watch"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(
        default=None,
        description="PEM file of the CA(s) that signed the brokers' certificates (SSL and "
        "SASL_SSL); unset: the system's trusted CAs.",
    )
    ssl_certfile: Path | None = Field(
        default=None,
        description="PEM client certificate (chain) for brokers that ask for one (mutual TLS).",
    )
    ssl_keyfile: Path | None = Field(
        default=None,
        description="PEM private key of the client certificate (unset: in the certificate file).",
    )
    ssl_password: SecretStr | None = Field(
        default=None, description="Password of an encrypted client key."
    )
    ssl_check_hostname: bool = Field(
        default=True,
        description="Check that a broker's certificate names the host connected to.",
    )
    # Group joins on the local broker wait about half the session timeout, so the defaults are
    # short; raise both (e.g. 45000/3000) against a production cluster.
    session_timeout_ms: int = Field(default=6000, ge=1000)
    heartbeat_interval_ms: int = Field(default=2000, ge=100)
    request_timeout_ms: int = Field(default=30000, ge=1000)
    fetch_max_wait_ms: int = Field(
        default=100,
        ge=1,
        description="Longest a consumer fetch waits for new records (latency on brokers "
        "that do not answer a waiting fetch early).",
    )
    compression: Literal["none", "gzip", "lz4", "zstd", "snappy"] = Field(
        default="zstd",
        description="The worker's producer compression. zstd at its default level is several "
        "times faster than aiokafka's lz4 (which always compresses at level 9) and smaller.",
    )
    linger_ms: int = Field(default=20, ge=0)

    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.bootstrap.split(",") if s.strip()]

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def sasl(self) -> bool:
        return self.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    @model_validator(mode="after")
    def _security_is_consistent(self) -> KafkaSettings:
        """Refuse settings a client would ignore, so that nothing silently runs in plaintext
        or without credentials."""
        protocol = self.security_protocol
        if self.sasl:
            missing = [
                name
                for name in ("sasl_mechanism", "sasl_username", "sasl_password")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"security_protocol {protocol} needs {', '.join(missing)}")
        elif self.sasl_mechanism or self.sasl_username or self.sasl_password:
            raise ValueError(
                f"SASL credentials are set but security_protocol is {protocol} "
                "(SASL_PLAINTEXT or SASL_SSL uses them)"
            )
        if not self.tls:
            given = [
                name
                for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_password")
                if getattr(self, name) is not None
            ]
            if given:
                raise ValueError(
                    f"{', '.join(given)} set but security_protocol is {protocol} "
                    "(SSL or SASL_SSL uses them)"
                )
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ValueError("ssl_keyfile is set without ssl_certfile")
        return self


class TopicSettings(BaseModel):
    """Topic names, layout and retention."""

    model_config = ConfigDict(frozen=True)

    prefix: str = Field(default="customs", description="First part of every topic name.")
    sources: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["jsonl", "demo", "csv", "xlsx", "cusdec", "watch", "http"],
        description="Feeds the worker consumes: one topic <prefix>.raw.<source> each.",
    )
    partitions: int = Field(default=4, ge=1)
    replication: int = Field(default=1, ge=1)
    retention_ms: int = Field(default=7 * 24 * 3600 * 1000, description="Data topics.")
    deadletter_retention_ms: int = Field(default=30 * 24 * 3600 * 1000)
    max_message_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024 * 1024,
        description="Topic max.message.bytes and the clients' request/fetch limits.",
    )

    @field_validator("sources", mode="before")
    @classmethod
    def _split_sources(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [s.strip() for s in value.split(",") if s.strip()]
        return value

    def raw(self, source: str) -> str:
        return f"{self.prefix}.raw.{source}"

    @property
    def declarations(self) -> str:
        return f"{self.prefix}.declarations"

    @property
    def enriched(self) -> str:
        return f"{self.prefix}.enriched"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}.alerts"

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}.deadletter"

    @property
    def facts(self) -> str:
        """Internal: per-party line facts and alert candidates for the stateful rules."""
        return f"{self.prefix}.facts"

    @property
    def flows(self) -> str:
        """Internal: value per category, destination and period, for flow_surge."""
        return f"{self.prefix}.flows"

    @property
    def alert_versions(self) -> str:
        """Internal: every version of every alert group, for the sink (``alerts`` table)."""
        return f"{self.prefix}.alert-versions"

    @property
    def alert_actions(self) -> str:
        """Triage actions from the ops console (audit events), keyed by alert id."""
        return f"{self.prefix}.alert-actions"

    @property
    def party_registry(self) -> str:
        """Compacted: the names and identifiers each party id was registered with."""
        return f"{self.prefix}.party-registry"

    @property
    def party_merges(self) -> str:
        """Compacted, keyed by party: merges and splits of parties (latest per party holds)."""
        return f"{self.prefix}.party-merges"

    def worker_inputs(self) -> list[str]:
        """Every topic the worker consumes, in pipeline order."""
        return [*(self.raw(s) for s in self.sources), self.declarations, self.facts, self.flows]

    def all_names(self) -> list[str]:
        return [
            *(self.raw(s) for s in self.sources),
            self.declarations,
            self.enriched,
            self.alerts,
            self.deadletter,
            self.facts,
            self.flows,
            self.alert_versions,
            self.alert_actions,
            self.party_registry,
            self.party_merges,
        ]


class ClickHouseSettings(BaseModel):
    """Where rows go. The DSN may carry a password, so it is a secret and never logged."""

    model_config = ConfigDict(frozen=True)

    dsn: SecretStr = Field(
        default=SecretStr("chdb://./data/clickhouse"),
        description="chdb://<dir> (embedded, default) or http(s)://user:pass@host:8123/db",
    )
    database: str = "customs_watch"
    bi_password: SecretStr | None = Field(
        default=None,
        description="Password of the read-only BI user created by migration 0009 (servers only).",
    )
    # Applied by `db migrate` and at worker start (ALTER TABLE … MODIFY/REMOVE TTL), so a
    # retention change needs no new migration file. None keeps rows for ever.
    declarations_ttl_days: int | None = Field(
        default=None, ge=1, description="Drop declaration lines this many days after declared_at."
    )
    alerts_ttl_days: int | None = Field(
        default=None, ge=1, description="Drop alert versions this many days after last_seen."
    )
    dead_letters_ttl_days: int | None = Field(
        default=90, ge=1, description="Drop dead letters this many days after they failed."
    )
    sink_batches_ttl_days: int | None = Field(
        default=30,
        ge=1,
        description="Drop the sink's batch plans this many days after they were made. A "
        "replayed range whose plan is landed is not inserted again, so keep this longer than "
        "the data topics' retention: the plans are the sink's dedup horizon.",
    )

    # Cluster mode (docs/deploy.md): replicated tables ON CLUSTER, Distributed tables over them.
    cluster: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of a ClickHouse cluster (remote_servers). Set: `db migrate` creates "
        "Replicated*MergeTree tables <name>_local ON CLUSTER with Distributed tables <name> "
        "over them, and the sink inserts each topic partition's batches into one shard.",
    )
    shard_dsns: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Cluster mode: one DSN per shard, in shard order (comma-separated), "
        "e.g. a service in front of the shard's replicas. Empty: every batch goes to the "
        "shard of the main DSN's node.",
    )

    @field_validator("shard_dsns", mode="before")
    @classmethod
    def _split_shard_dsns(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [s.strip() for s in value.split(",") if s.strip()]
        return value

    @property
    def embedded(self) -> bool:
        return self.dsn.get_secret_value().startswith("chdb://")

    def embedded_path(self) -> Path | None:
        dsn = self.dsn.get_secret_value()
        return Path(dsn.removeprefix("chdb://")) if self.embedded else None


class MetricsSettings(BaseModel):
    """Prometheus metrics and health endpoints (``/metrics``, ``/healthz``, ``/readyz``) of
    the long-running processes. Off by default; each process kind has its own port so
    several can share a host."""

    model_config = ConfigDict(frozen=True)

    enabled: bool = Field(default=False, description="Serve /metrics, /healthz and /readyz.")
    host: str = Field(default="127.0.0.1", description="Address the endpoint listens on.")
    worker_port: int = Field(default=9464, ge=0, le=65535, description="0: any free port.")
    sink_port: int = Field(default=9465, ge=0, le=65535, description="0: any free port.")
    console_port: int = Field(default=9466, ge=0, le=65535, description="0: any free port.")
    connector_port: int = Field(default=9467, ge=0, le=65535, description="0: any free port.")
    lag_interval_s: float = Field(
        default=15.0, gt=0, description="How often a process measures its group's lag."
    )


class SinkSettings(BaseModel):
    """The ClickHouse sink: batches per topic-partition, committed only after ClickHouse
    acknowledged them."""

    model_config = ConfigDict(frozen=True)

    enabled: bool = Field(
        default=True,
        description="Run the sink in this worker. With the embedded engine only the worker "
        "that owns the data directory may; others run the stream stages only (--no-sink).",
    )
    max_rows: int = Field(default=10_000, ge=1, description="Rows that close a batch.")
    max_wait_s: float = Field(default=1.0, gt=0, description="Age that closes a batch.")
    max_wait_behind_s: float = Field(
        default=10.0,
        gt=0,
        description="Age that closes a batch while its partition still has records coming "
        "(the sink is behind, or the batch opened within this long of the partition's "
        "previous record: sustained load): larger inserts, fewer parts to merge; rows become "
        "queryable up to this late under load. Applies to `customs-watch sink` only: a worker "
        "that runs the sink itself closes batches at max_wait_s, because large inserts there "
        "hold up its agents and delay alerts.",
    )
    dedup_memory: int = Field(
        default=100_000,
        ge=100,
        description="Upstream messages remembered per partition to drop redelivered copies.",
    )
    retry_max_s: float = Field(default=30.0, gt=0, description="Longest wait between retries.")


class WorkerSettings(BaseModel):
    """The faust worker: its group id, web server and local state."""

    model_config = ConfigDict(frozen=True)

    app_id: str = Field(default="customs-watch", description="faust app id = consumer group.")
    web_host: str = Field(
        default="127.0.0.1",
        description="Address of the web port (named queries); off loopback it needs web_token.",
    )
    web_port: int = Field(default=6066, ge=1, le=65535)
    web_token: SecretStr | None = Field(
        default=None,
        description="Bearer token every named-query request must send (Authorization: Bearer "
        "…); required when web_host is not a loopback address.",
    )
    query_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="ClickHouse max_execution_time of one named query served on the web port.",
    )
    query_concurrency: int = Field(
        default=2,
        ge=1,
        description="Named queries the web port runs at once; more are answered 503 at once.",
    )
    data_dir: Path = Path("./data/faust")
    commit_interval_s: float = Field(default=1.0, gt=0)
    commit_stall_s: float = Field(
        default=30.0,
        gt=0,
        description="A stream partition whose committed offset has not moved for this long, "
        "although the worker holds none of its records and the log has more, is read again "
        "from that offset (faust can lose the acknowledgement of one record around a restart "
        "or rebalance, which would stop the partition's commits for good).",
    )
    take_events: int = Field(
        default=64,
        ge=1,
        description="Messages an agent handles at once when they are waiting (a group closes "
        "after take_within_s anyway): a table key changed by several of them is written to "
        "its changelog once.",
    )
    party_refresh_s: float = Field(
        default=5.0,
        gt=0,
        description="How often the worker publishes the parties it registered and reads "
        "those other workers and analysts published (party-registry, party-merges).",
    )
    party_refresh_busy_s: float = Field(
        default=1.0,
        gt=0,
        description="The same, while the worker has registered parties not yet published: "
        "other workers learn them sooner and resolve fewer of the same names again (two "
        "workers on one feed: registry events 134 → 113 per 1 000 lines at 1 s instead of 5).",
    )
    publish_declarations: bool = Field(
        default=False,
        description="Also publish each raw batch's valid canonical lines on "
        "<prefix>.declarations. Off: the worker parses and enriches a raw batch in one step "
        "and <prefix>.enriched carries every canonical field plus the enrichment.",
    )
    take_within_s: float = Field(
        default=0.02, gt=0, description="Max wait to fill that group (adds to latency per stage)."
    )
    gc_thresholds: tuple[int, int, int] = Field(
        default=(200_000, 20, 100),
        description="gc.set_threshold for the worker and sink processes (generation 0, 1, 2). "
        "Python's default (700, 10, 10) makes full collections of the loaded rules and lists "
        "a fifth of the worker's CPU; what is loaded at start is frozen out of collection. "
        "A young generation of 200 000 objects (was 50 000) holds a whole group of batches: "
        "the worker's collections fell from ~9 to ~4 ms per 1 000 lines.",
    )


class WebhookSettings(BaseModel):
    """``customs-watch alerts webhook``. The URL (it often carries a token) and the secret
    come from the environment or a file, never from the command line."""

    model_config = ConfigDict(frozen=True)

    url: SecretStr | None = Field(
        default=None, description="http(s) endpoint that receives each alert."
    )
    secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of the X-Customs-Watch-Signature header."
    )
    budget_s: float = Field(
        default=20.0,
        gt=0,
        description="Longest one alert's delivery (every attempt and wait) may take before it "
        "is recorded as failed and the next alert is sent.",
    )
    timeout_s: float = Field(default=5.0, gt=0, description="Longest wait for one answer.")


class IngestSettings(BaseModel):
    """How connectors cut a feed into Kafka messages."""

    model_config = ConfigDict(frozen=True)

    # One raw message becomes one ClickHouse insert downstream, so batches should be large;
    # 1 MiB of payload stays well under the topics' 8 MiB message limit after base64 and
    # enrichment.
    batch_records: int = Field(default=1000, ge=1, description="Max records per raw message.")
    batch_bytes: int = Field(default=1024 * 1024, ge=1024, description="Max payload bytes.")
    chunk_records: int = Field(
        default=200_000,
        ge=1,
        description="Record positions per chunk of a file: each chunk goes to its own "
        "partition (the file's own, then the next ones) and resumes on its own, so workers "
        "share a large file. A file of fewer records is one chunk, as before.",
    )
    mappings_dir: Path | None = Field(
        default=None,
        description="Your own mapping files (YAML like schemas/mappings/), by name; they win "
        "over the packaged ones. The worker reads them again when they change.",
    )
    state_dir: Path = Field(
        default=Path("./data/ingest-state"),
        description="Where connectors keep their resume points (one JSON file per source).",
    )
    # Limits on one input file: a file past any of them is refused whole (watch: failed/
    # with a reason file and a dead letter), never read into all memory.
    max_file_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=1,
        description="Largest file a connector reads whole (CSV, .xlsx, EDIFACT).",
    )
    # JSONL is read line by line, so its memory is bounded by its longest line, not by its
    # size: a backfill (a year of one country's declarations) is tens of GB in one file.
    max_streamed_file_bytes: int = Field(
        default=1024**4,
        ge=1,
        description="Largest JSONL file (read line by line, never whole).",
    )
    max_line_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=1024 * 1024,
        description="Longest JSONL line: a file holding a longer one is refused before any "
        "of it is published (a line over topics.max_message_bytes but under this is one "
        "dead letter, the rest goes on).",
    )
    max_rows: int = Field(
        default=10_000_000, ge=1, description="Largest row or line number of a tabular file."
    )
    max_columns: int = Field(
        default=1024, ge=1, description="Most cells in a tabular header or .xlsx row."
    )
    max_zip_entry_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1,
        description=".xlsx: largest uncompressed size a zip entry may declare.",
    )
    max_zip_ratio: float = Field(
        default=200.0,
        gt=1,
        description=".xlsx: largest uncompressed/compressed ratio of a zip entry over 1 MiB "
        "(a zip bomb's is in the thousands).",
    )
    max_read_s: float = Field(
        default=300.0, gt=0, description="Longest time reading one .xlsx sheet's rows."
    )
    http_max_answer_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="ingest http: largest answer read from the endpoint (a larger one stops "
        "the poller).",
    )
    http_answer_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="ingest http: longest wait for one whole answer, headers to last byte "
        "(retried like a timeout).",
    )


class RulesSettings(BaseModel):
    """Optional rule inputs beyond the packaged rule data."""

    model_config = ConfigDict(frozen=True)

    fx_rates: Path | None = Field(
        default=None,
        description="Rate table (YAML like schemas/rules/fx_rates_sample.yaml) for value_usd.",
    )


class ScreeningSettings(BaseModel):
    """Where the worker finds its watchlists, and how strict screening is."""

    model_config = ConfigDict(frozen=True)

    watchlist_dir: Path = Field(
        default=Path("./data/watchlists"),
        description="Lists saved by `customs-watch watchlist load`; the worker watches it.",
    )
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="Overrides screening.yaml's threshold (0.70)."
    )
    reload_interval_s: float = Field(
        default=5.0, gt=0, description="How often the worker checks the folder for new lists."
    )


class ConsoleSettings(BaseModel):
    """``customs-watch console``: the ops console's address, store and login rules."""

    model_config = ConfigDict(frozen=True)

    host: str = Field(
        default="127.0.0.1",
        description="Address to listen on; off loopback it needs TLS (tls_certfile/keyfile) "
        "or trusted_proxy (a TLS-terminating proxy in front).",
    )
    port: int = Field(default=8088, ge=1, le=65535)
    db_url: SecretStr = Field(
        default=SecretStr("sqlite:///./data/console.db"),
        description="SQLAlchemy URL of the triage store: SQLite file, or postgresql+psycopg://…",
    )
    tls_certfile: Path | None = Field(default=None, description="PEM certificate: serve HTTPS.")
    tls_keyfile: Path | None = Field(default=None, description="Its PEM key.")
    trusted_proxy: str | None = Field(
        default=None,
        description="Address of a TLS-terminating proxy whose X-Forwarded-* headers are "
        "believed; cookies are then Secure.",
    )
    session_hours: float = Field(default=12.0, gt=0, description="Idle-free session lifetime.")
    login_attempts: int = Field(
        default=5, ge=1, description="Failed logins per user or client address in the window."
    )
    login_window_s: float = Field(default=300.0, gt=0, description="The rate-limit window.")
    refresh_s: float = Field(
        default=5.0, gt=0, description="How long alerts read from ClickHouse are reused."
    )
    max_alerts: int = Field(default=5000, ge=1, description="Newest alerts the queue reads.")
    publish: bool = Field(
        default=True, description="Publish actions on <prefix>.alert-actions (an outbox)."
    )


class Settings(BaseSettings):
    """Everything customs-watch can be told. Built once by the CLI and passed down."""

    model_config = SettingsConfigDict(
        env_prefix="CUSTOMS_WATCH_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        frozen=True,
        extra="ignore",
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    clickhouse: ClickHouseSettings = Field(default_factory=ClickHouseSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    sink: SinkSettings = Field(default_factory=SinkSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    screening: ScreeningSettings = Field(default_factory=ScreeningSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    log: Literal["kv", "json"] = Field(default="kv", description="Log line format.")
