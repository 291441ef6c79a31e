/**
 * Generated from docs/openapi.json by client/scripts/generate.ts (openapi-typescript): do not edit.
 * Regenerate with `npm run client:generate` after `npm run openapi`.
 */
export type paths = {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: D1, R2, the queue and a document object each answer (cached 5 s) */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This OpenAPI document */
        get: operations["getOpenApi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics: requests, latency, errors, transactions, sagas, and the pipeline's state
         * @description Needs a tenant credential with the "admin" scope, or the operator secret (every tenant).
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_changes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The tenant's change feed, in feed order; long-polls with wait=<seconds>
         * @description Needs a tenant credential with the "read" scope.
         */
        get: operations["getChanges"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_admin/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A tenant's live keys, newest first (never the keys themselves)
         * @description Needs a tenant credential with the "admin" scope, or the operator secret (every tenant).
         */
        get: operations["listKeys"];
        put?: never;
        /**
         * Create an API key (the key is in this answer only)
         * @description Needs a tenant credential with the "admin" scope, or the operator secret (every tenant).
         */
        post: operations["createKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_admin/keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke a key: it stops working within 30 seconds everywhere (at once where it was revoked)
         * @description Needs a tenant credential with the "admin" scope, or the operator secret (every tenant).
         */
        delete: operations["revokeKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_admin/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The audit trail of admin actions, oldest first
         * @description Needs a tenant credential with the "admin" scope, or the operator secret (every tenant).
         */
        get: operations["listAudit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_admin/rebuild": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The most recent rebuilds, newest first
         * @description Needs the operator secret.
         */
        get: operations["listRebuilds"];
        put?: never;
        /**
         * Rebuild the read model from the R2 archive (one tenant, one collection, or all); or move a tenant
         * @description The current read model keeps serving until the rebuilt one takes over, atomically. Follow it at Location. Needs the operator secret.
         */
        post: operations["startRebuild"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_admin/rebuild/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A rebuild's progress: objects and events read, rate, estimated time left
         * @description Needs the operator secret.
         */
        get: operations["getRebuild"];
        put?: never;
        post?: never;
        /**
         * Cancel a rebuild before it takes over; what it built is discarded, the live read model is untouched
         * @description Needs the operator secret.
         */
        delete: operations["cancelRebuild"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Projection lag (p50/p99 over the last 1000 changes), events projected, dead letters, documents
         * @description Needs a tenant credential with the "admin" scope, or the operator secret (every tenant).
         */
        get: operations["getStats"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_admin/dead-letters": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Events that exhausted their retries and wait for a redrive
         * @description Needs a tenant credential with the "admin" scope, or the operator secret (every tenant).
         */
        get: operations["listDeadLetters"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_admin/dead-letters/redrive": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send up to 100 pending dead letters back through the projector
         * @description Needs a tenant credential with the "admin" scope, or the operator secret (every tenant).
         */
        post: operations["redriveDeadLetters"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_transactions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Apply up to 100 writes and checks on documents of your tenant, all or nothing
         * @description Two-phase commit across the documents' objects. 200 when every operation applied; 409 naming the operation (index) and its reason when one cannot, and then nothing is applied anywhere. An Idempotency-Key makes a retry replay the first outcome. The read model shows the transaction's writes all at once. Needs a tenant credential with the "write" scope.
         */
        post: operations["runTransaction"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_sagas": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The tenant's sagas, newest first, optionally of one status (from the read model)
         * @description Needs a tenant credential with the "read" scope.
         */
        get: operations["listSagas"];
        put?: never;
        /**
         * Start a saga: steps in order, each an action and a compensation
         * @description Body {"steps": [{"name", "action": <op>, "compensation": <op>, "attempts"?}]}; an <op> is a document operation (as in a transaction), {"op": "transaction", "operations": [...]}, or {"op": "http", method, url, body, expect} to an origin on SAGA_HTTP_ORIGINS. When an action fails for good, the completed steps' compensations run in reverse order. Needs a tenant credential with the "write" scope.
         */
        post: operations["startSaga"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_sagas/{saga}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A saga's status, and each step's and compensation's outcome, attempts, error and times
         * @description Needs a tenant credential with the "read" scope.
         */
        get: operations["getSaga"];
        put?: never;
        /**
         * Start a saga declared in code (domain/named-sagas.ts), from its JSON input
         * @description Needs a tenant credential with the "write" scope.
         */
        post: operations["startNamedSaga"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_sagas/{saga}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Stop a running saga: no further step starts, and the completed ones are compensated
         * @description Needs a tenant credential with the "write" scope.
         */
        post: operations["cancelSaga"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_sagas/{saga}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Resume a failed saga (its compensation is tried again), once the cause is fixed
         * @description Needs a tenant credential with the "admin" scope.
         */
        post: operations["resumeSaga"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Stream the tenant's documents as NDJSON, consistent as of one change-feed position
         * @description The first line names the position (also in Export-Position): every document is as it was once the changes up to it were applied, in (collection, id) order; documents created after it are left out and documents changed or deleted after it are exported as they were. The last line counts the documents: a body without it was cut short. Served by the read model. Needs a tenant credential with the "read" scope.
         */
        get: operations["exportDocuments"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/_import": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Write NDJSON lines as documents (PUT), idempotently: a line sent again is replayed, not applied twice
         * @description At most 1000 lines and 4194304 bytes per request; send a file in chunks, each with the number of its first line (Import-Line). Each line is a PUT of its document with the Idempotency-Key import:{Import-Id}:{line}, so a re-run of an interrupted import replays what was applied (within IDEMPOTENCY_TTL_SECONDS) and applies the rest. Imported documents start their own history. A line that cannot be written is refused on its own, with its reason; the others are applied. Needs a tenant credential with the "write" scope.
         */
        post: operations["importDocuments"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/{collection}/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a document, or the document as it was at ?version=N
         * @description Consistency: strong reads the document's object; eventual (default) the read model. A Consistency-Token from a write guarantees the read is at least that new. Read-Source says which answered. Needs a tenant credential with the "read" scope.
         */
        get: operations["getDocument"];
        /**
         * Create or replace a document
         * @description Needs a tenant credential with the "write" scope.
         */
        put: operations["putDocument"];
        post?: never;
        /**
         * Delete a document (it becomes a tombstone; its history remains)
         * @description Needs a tenant credential with the "write" scope.
         */
        delete: operations["deleteDocument"];
        options?: never;
        head?: never;
        /**
         * Patch a document (JSON Merge Patch or JSON Patch with Tessera's increment)
         * @description Needs a tenant credential with the "write" scope.
         */
        patch: operations["patchDocument"];
        trace?: never;
    };
    "/v1/{collection}/{id}/_history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A document's events in version order, paginated
         * @description Needs a tenant credential with the "read" scope.
         */
        get: operations["getDocumentHistory"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/{collection}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Query a collection on the read model (declared indexes only)
         * @description where[field]=v or where[field][op]=v with op in eq, ne, gt, gte, lt, lte, in (comma-separated), prefix; order=field or -field (default id); limit (1-200); cursor from the previous page's next. Needs a tenant credential with the "read" scope.
         */
        get: operations["queryCollection"];
        put?: never;
        /**
         * Create a document with a server-generated, time-ordered id
         * @description With an Idempotency-Key, the id is derived from the key, so a retry can never create a second document Needs a tenant credential with the "write" scope.
         */
        post: operations["createDocument"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
};
export type webhooks = Record<string, never>;
export type components = {
    schemas: {
        Health: {
            /** @enum {string} */
            status: "ok";
        };
        Readiness: {
            /** @enum {string} */
            status: "ready";
            checks: {
                d1: string;
                r2: string;
                queue: string;
                objects: string;
            };
        };
        Problem: {
            /** Format: uri */
            type: string;
            title: string;
            status: number;
            detail: string;
            /** @description stable, machine-readable error code */
            code: string;
            /** @description on 412: the document's current version */
            currentVersion?: number;
            /** @description on 409/422: JSON Pointer to the offending value */
            pointer?: string;
        };
        ChangesPage: {
            changes: components["schemas"]["Change"][];
            /** @description cursor to resume from, also at the end of the feed */
            next: string;
        };
        Change: {
            seq: number;
            collection: string;
            id: string;
            version: number;
            /** @enum {string} */
            type: "put" | "patch" | "delete";
            data: components["schemas"]["DocumentData"];
            /** Format: date-time */
            committedAt: string;
            /** @description the transaction that wrote it; a transaction's changes are consecutive */
            txId?: string;
        };
        /**
         * @description Any JSON object, at most the deployment's MAX_DOCUMENT_BYTES (1 MiB by default), 64 levels deep
         * @example {
         *       "customer": "ada",
         *       "total": 42
         *     }
         */
        DocumentData: {
            [key: string]: unknown;
        } | null;
        CreatedKey: components["schemas"]["KeyInfo"] & {
            /** @description the key itself: shown this once, stored nowhere */
            key: string;
        };
        KeyInfo: {
            id: string;
            tenant: string;
            name: string;
            scopes: ("read" | "write" | "admin")[];
            collections: string[] | null;
            rateLimit: string;
            /** Format: date-time */
            createdAt: string;
        };
        NewKeyRequest: {
            /** @description the tenant the key acts for */
            tenant: string;
            scopes: ("read" | "write" | "admin")[];
            /** @description the collections it may use; all of its tenant's when absent */
            collections?: string[];
            /** @description what the key is for, for people */
            name: string;
            /**
             * @description its rate-limit tier; "default" when absent
             * @enum {string}
             */
            rateLimit?: "default" | "low" | "high" | "none";
        };
        AuditEntry: {
            seq: number;
            /** Format: date-time */
            at: string;
            actor: string;
            tenant: string | null;
            action: string;
            target: string | null;
            requestId: string;
            detail?: unknown;
        };
        Rebuild: {
            id: string;
            tenant: string | null;
            collection: string | null;
            target: string;
            /** @enum {string} */
            mode: "shadow" | "move";
            /** @enum {string} */
            status: "waiting" | "scanning" | "taking-over" | "draining" | "done" | "cancelled" | "failed";
            progress: {
                objectsTotal: number | null;
                objectsRead: number;
                eventsRead: number;
                eventsPerSecond: number | null;
                /** @description estimated, from the rate so far */
                secondsLeft: number | null;
            };
            /** Format: date-time */
            startedAt: string;
            /** Format: date-time */
            finishedAt: string | null;
            error: string | null;
        };
        RebuildRequest: {
            /** @description one tenant; every tenant when absent */
            tenant?: string;
            /** @description one collection of the tenant; all when absent (needs tenant) */
            collection?: string;
            /** @description the database binding to build into; another than the tenant's moves it there (needs tenant, not collection) */
            target?: string;
        };
        RebuildList: {
            rebuilds: components["schemas"]["Rebuild"][];
        };
        Stats: {
            lagMs: {
                p50: number | null;
                p99: number | null;
                window: number;
            };
            eventsProjected: number;
            deadLettersPending: number;
            documents: number;
            /** @description events held until their transaction is whole in the read model */
            heldEvents: number;
        };
        DeadLetter: {
            messageId: string;
            body?: unknown;
            attempts: number;
            /** @description how many times this event reached the dead-letter queue */
            deaths: number;
            /** Format: date-time */
            receivedAt: string;
        };
        TransactionResult: {
            txId: string;
            results: {
                index: number;
                collection: string;
                id: string;
                /** @description the version written; null for a check */
                version: number | null;
            }[];
        };
        TransactionRequest: {
            operations: components["schemas"]["TransactionOperation"][];
        };
        TransactionOperation: {
            /** @enum {string} */
            op: "put" | "patch" | "delete" | "check";
            collection: string;
            id: string;
            /** @description put: the document */
            data?: {
                [key: string]: unknown;
            };
            /** @description patch: a JSON Merge Patch */
            merge?: {
                [key: string]: unknown;
            };
            /** @description patch: a JSON Patch (with increment) */
            patch?: unknown[];
            /** @description only if the document is at this version */
            ifMatch?: number;
            /** @description only if the document exists (true) or not (false) */
            exists?: boolean;
        };
        SagaStarted: {
            id: string;
            /** @enum {string} */
            status: "running";
        };
        Saga: {
            id: string;
            name: string;
            /** @enum {string} */
            status: "running" | "completed" | "compensating" | "compensated" | "failed" | "cancelled";
            steps: {
                name: string;
                action: {
                    /** @enum {string} */
                    status: "pending" | "running" | "done" | "failed" | "skipped";
                    attempts: number;
                    error: string | null;
                    startedAt: string | null;
                    finishedAt: string | null;
                };
                compensation: {
                    /** @enum {string} */
                    status: "pending" | "running" | "done" | "failed" | "skipped";
                    attempts: number;
                    error: string | null;
                    startedAt: string | null;
                    finishedAt: string | null;
                } | null;
            }[];
            reason: string | null;
            cancelRequested: boolean;
            createdAt: string;
            updatedAt: string;
            finishedAt: string | null;
        };
        /** @description One line of an export: a first line with the position, one document per line in (collection, id) order, and a last line with the count */
        ExportLine: {
            /** @enum {string} */
            tessera: "export";
            /** @description the change-feed position the export is consistent as of */
            position: string;
            collection: string | null;
            /** @description about how many documents follow (the live documents when it started) */
            estimate: number;
        } | {
            /** @enum {string} */
            collection: "todos";
            id: string;
            version: number;
            data: components["schemas"]["TodosDocument"];
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        } | components["schemas"]["Envelope"] | {
            /** @enum {string} */
            tessera: "end";
            position: string;
            /** @description how many document lines were sent */
            documents: number;
        };
        /** @description A document of the collection todos (its schema in domain/collections.ts) */
        TodosDocument: {
            title: string;
            /** @enum {string} */
            status?: "open" | "doing" | "done";
            priority?: number;
            owner?: string;
            done?: boolean;
        } & {
            [key: string]: unknown;
        };
        Envelope: {
            collection: string;
            id: string;
            version: number;
            data: components["schemas"]["DocumentData"];
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        };
        ImportResult: {
            importId: string;
            /** @description the number of the body's first line */
            first: number;
            /** @description lines in the body */
            lines: number;
            /** @description lines applied by this request */
            written: number;
            /** @description lines an earlier request of this import applied */
            replayed: number;
            /** @description blank lines, and an export's first and last lines */
            skipped: number;
            refused: {
                line: number;
                /** @description the status a single write would have had */
                status: number;
                code: string;
                detail: string;
                pointer?: string;
                /** @description true when sending the line again may succeed */
                retryable: boolean;
            }[];
        };
        /**
         * @description NDJSON, at most 1000 lines and 4194304 bytes: one {"collection", "id", "data"} per line (an export's lines do: version and times are ignored, and its first and last lines are skipped)
         * @example {"collection":"todos","id":"t-1","data":{"title":"write docs"}}
         */
        ImportBody: string;
        /** @description RFC 6902, every op, plus Tessera's increment: { op, path, value, min?, max? } */
        JsonPatch: ({
            /** @enum {string} */
            op: "add" | "replace" | "test";
            path: string;
            value: unknown;
        } | {
            /** @enum {string} */
            op: "remove";
            path: string;
        } | {
            /** @enum {string} */
            op: "move" | "copy";
            from: string;
            path: string;
        } | {
            /** @enum {string} */
            op: "increment";
            path: string;
            value: number;
            min?: number;
            max?: number;
        })[];
        HistoryPage: {
            items: components["schemas"]["Event"][];
            next: number | null;
        };
        Event: {
            eventId: string;
            tenant: string;
            collection: string;
            id: string;
            version: number;
            /** @enum {string} */
            type: "put" | "patch" | "delete";
            data: components["schemas"]["DocumentData"];
            /** Format: date-time */
            committedAt: string;
            idempotencyKey?: string;
            txId?: string;
        };
        QueryPage: {
            items: components["schemas"]["Envelope"][];
            /** @description cursor of the next page */
            next: string | null;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
};
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the Worker is up */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description every dependency answered */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getOpenApi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OpenAPI 3.1 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: {
                /** @description for the operator: one tenant (all when absent) */
                tenant?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the Prometheus text exposition format */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getChanges: {
        parameters: {
            query?: {
                /** @description cursor from a previous page's next */
                after?: string;
                /** @description 1 to 1000, default 100 */
                limit?: number;
                /** @description one collection's changes (_sagas: the tenant's saga records) */
                collection?: string;
                /** @description long-poll seconds, at most 30 */
                wait?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of changes */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ChangesPage"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            410: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listKeys: {
        parameters: {
            query?: {
                /** @description the operator's choice; a tenant admin's own */
                tenant?: string;
                /** @description the previous page's next */
                before?: string;
                /** @description 1 to 500, default 100 */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of keys */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["KeyInfo"][];
                        next: string | null;
                    };
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewKeyRequest"];
            };
        };
        responses: {
            /** @description the key, shown this once */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedKey"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            413: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            415: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    revokeKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            404: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listAudit: {
        parameters: {
            query?: {
                /** @description the operator's choice; a tenant admin's own */
                tenant?: string;
                /** @description the previous page's next */
                after?: number;
                /** @description 1 to 1000, default 100 */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of entries */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["AuditEntry"][];
                        next: number | null;
                    };
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listRebuilds: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description rebuilds */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RebuildList"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    startRebuild: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RebuildRequest"];
            };
        };
        responses: {
            /** @description started */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rebuild"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            409: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            413: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            415: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getRebuild: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the rebuild */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rebuild"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            404: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelRebuild: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description cancelled */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rebuild"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            404: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            409: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getStats: {
        parameters: {
            query?: {
                /** @description for the operator: one tenant (all when absent); a tenant admin sees its own */
                tenant?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description statistics */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stats"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listDeadLetters: {
        parameters: {
            query?: {
                /** @description for the operator: one tenant (all when absent); a tenant admin sees its own */
                tenant?: string;
                /** @description the previous page's next */
                after?: string;
                /** @description 1 to 1000, default 100 */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description pending dead letters, by message id */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["DeadLetter"][];
                        next: string | null;
                    };
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    redriveDeadLetters: {
        parameters: {
            query?: {
                /** @description for the operator: one tenant (all when absent); a tenant admin sees its own */
                tenant?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description how many were sent and how many remain */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        redriven: number;
                        remaining: number;
                    };
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    runTransaction: {
        parameters: {
            query?: never;
            header?: {
                "Idempotency-Key"?: string;
                "Consistency-Token"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TransactionRequest"];
            };
        };
        responses: {
            /** @description committed: every write applied */
            200: {
                headers: {
                    /** @description carry it to later requests for read-your-writes and monotonic reads */
                    "Consistency-Token"?: string;
                    /** @description true when this is the stored answer to an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TransactionResult"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            409: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            413: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            415: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            422: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listSagas: {
        parameters: {
            query?: {
                status?: "running" | "completed" | "compensating" | "compensated" | "failed" | "cancelled";
                /** @description 1 to 200, default 50 */
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of sagas */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Saga"][];
                        next: string | null;
                    };
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    startSaga: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    steps: unknown[];
                };
            };
        };
        responses: {
            /** @description started: it runs to the end without the client; the record is at Location */
            202: {
                headers: {
                    /** @description the created document's URL */
                    Location?: string;
                    /** @description true when this is the stored answer to an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SagaStarted"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            413: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            415: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            422: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getSaga: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a saga's id, or (POST) a declared saga's name */
                saga: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the saga */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Saga"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            404: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    startNamedSaga: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a saga's id, or (POST) a declared saga's name */
                saga: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description started: it runs to the end without the client; the record is at Location */
            202: {
                headers: {
                    /** @description the created document's URL */
                    Location?: string;
                    /** @description true when this is the stored answer to an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SagaStarted"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            404: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            413: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            415: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            422: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelSaga: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a saga's id, or (POST) a declared saga's name */
                saga: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description cancellation requested */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id?: string;
                        /** @enum {string} */
                        status?: "running";
                    };
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            404: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            409: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resumeSaga: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a saga's id, or (POST) a declared saga's name */
                saga: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description resumed */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id?: string;
                        /** @enum {string} */
                        status?: "running";
                    };
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            404: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            409: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    exportDocuments: {
        parameters: {
            query?: {
                /** @description export one collection (default: every collection the credential may use) */
                collection?: string;
            };
            header?: {
                /** @description never answer with a version older than the token covers; the answer carries it on, with what it saw */
                "Consistency-Token"?: string;
                /** @description echoed back; generated when absent or malformed */
                "X-Request-Id"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the export, one JSON object per line */
            200: {
                headers: {
                    /** @description the change-feed position the export is consistent as of (a feed cursor) */
                    "Export-Position"?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": components["schemas"]["ExportLine"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    importDocuments: {
        parameters: {
            query?: never;
            header: {
                /** @description names the import (the CLI derives it from the file's hash): each line's write is keyed by it and the line's number, so sending a line again replays it instead of applying it twice */
                "Import-Id": string;
                /** @description the number in the file of the body's first line (default 1) */
                "Import-Line"?: number;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/x-ndjson": components["schemas"]["ImportBody"];
            };
        };
        responses: {
            /** @description what became of each line */
            200: {
                headers: {
                    /** @description how far behind the read model is, in ms */
                    "Projection-Lag"?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ImportResult"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            413: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            415: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getDocument: {
        parameters: {
            query?: {
                /** @description read the document as it was at this version */
                version?: number;
                /** @description as the Consistency header; the header wins */
                consistency?: "strong" | "eventual";
            };
            header?: {
                /** @description strong (the document's object) or eventual (the read model, default) */
                Consistency?: string;
                /** @description 304 when the current version is one of these */
                "If-None-Match"?: string;
                /** @description never answer with a version older than the token covers; the answer carries it on, with what it saw */
                "Consistency-Token"?: string;
                /** @description echoed back; generated when absent or malformed */
                "X-Request-Id"?: string;
            };
            path: {
                collection: string;
                /** @description 1 to 512 UTF-8 bytes, no '/' or control characters, not '.' or '..'; percent-encoded */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the document */
            200: {
                headers: {
                    /** @description the version as a strong entity tag: "3" */
                    ETag?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description read-model or primary */
                    "Read-Source"?: string;
                    /** @description carry it to later requests for read-your-writes and monotonic reads */
                    "Consistency-Token"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Envelope"];
                };
            };
            /** @description If-None-Match matched */
            304: {
                headers: {
                    /** @description the version as a strong entity tag: "3" */
                    ETag?: string;
                    /** @description read-model or primary */
                    "Read-Source"?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            404: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    putDocument: {
        parameters: {
            query?: never;
            header?: {
                /** @description write only if the document is at one of these versions ("3") or exists (*) */
                "If-Match"?: string;
                /** @description * makes the write create-only */
                "If-None-Match"?: string;
                /** @description 1 to 255 printable ASCII characters; a retry with the same key replays the first answer */
                "Idempotency-Key"?: string;
                /** @description the token from earlier responses; the answer carries it on */
                "Consistency-Token"?: string;
                /** @description echoed back; generated when absent or malformed */
                "X-Request-Id"?: string;
            };
            path: {
                collection: string;
                /** @description 1 to 512 UTF-8 bytes, no '/' or control characters, not '.' or '..'; percent-encoded */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DocumentData"];
            };
        };
        responses: {
            /** @description replaced */
            200: {
                headers: {
                    /** @description the version as a strong entity tag: "3" */
                    ETag?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description carry it to later requests for read-your-writes and monotonic reads */
                    "Consistency-Token"?: string;
                    /** @description true when this is the stored answer to an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: string;
                    /** @description how far behind the read model is, in ms: slow down as it grows (collections that opt in refuse writes past a bound) */
                    "Projection-Lag"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Envelope"];
                };
            };
            /** @description created */
            201: {
                headers: {
                    /** @description the version as a strong entity tag: "3" */
                    ETag?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description the created document's URL */
                    Location?: string;
                    /** @description carry it to later requests for read-your-writes and monotonic reads */
                    "Consistency-Token"?: string;
                    /** @description true when this is the stored answer to an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: string;
                    /** @description how far behind the read model is, in ms: slow down as it grows (collections that opt in refuse writes past a bound) */
                    "Projection-Lag"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Envelope"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            412: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            413: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            415: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            422: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteDocument: {
        parameters: {
            query?: never;
            header?: {
                /** @description write only if the document is at one of these versions ("3") or exists (*) */
                "If-Match"?: string;
                /** @description * makes the write create-only */
                "If-None-Match"?: string;
                /** @description 1 to 255 printable ASCII characters; a retry with the same key replays the first answer */
                "Idempotency-Key"?: string;
                /** @description the token from earlier responses; the answer carries it on */
                "Consistency-Token"?: string;
                /** @description echoed back; generated when absent or malformed */
                "X-Request-Id"?: string;
            };
            path: {
                collection: string;
                /** @description 1 to 512 UTF-8 bytes, no '/' or control characters, not '.' or '..'; percent-encoded */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description deleted */
            204: {
                headers: {
                    /** @description the version as a strong entity tag: "3" */
                    ETag?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description carry it to later requests for read-your-writes and monotonic reads */
                    "Consistency-Token"?: string;
                    /** @description true when this is the stored answer to an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: string;
                    /** @description how far behind the read model is, in ms: slow down as it grows (collections that opt in refuse writes past a bound) */
                    "Projection-Lag"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            404: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            412: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            422: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    patchDocument: {
        parameters: {
            query?: never;
            header?: {
                /** @description write only if the document is at one of these versions ("3") or exists (*) */
                "If-Match"?: string;
                /** @description * makes the write create-only */
                "If-None-Match"?: string;
                /** @description 1 to 255 printable ASCII characters; a retry with the same key replays the first answer */
                "Idempotency-Key"?: string;
                /** @description the token from earlier responses; the answer carries it on */
                "Consistency-Token"?: string;
                /** @description echoed back; generated when absent or malformed */
                "X-Request-Id"?: string;
            };
            path: {
                collection: string;
                /** @description 1 to 512 UTF-8 bytes, no '/' or control characters, not '.' or '..'; percent-encoded */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/merge-patch+json": components["schemas"]["DocumentData"];
                "application/json-patch+json": components["schemas"]["JsonPatch"];
            };
        };
        responses: {
            /** @description patched */
            200: {
                headers: {
                    /** @description the version as a strong entity tag: "3" */
                    ETag?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description carry it to later requests for read-your-writes and monotonic reads */
                    "Consistency-Token"?: string;
                    /** @description true when this is the stored answer to an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: string;
                    /** @description how far behind the read model is, in ms: slow down as it grows (collections that opt in refuse writes past a bound) */
                    "Projection-Lag"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Envelope"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            404: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            409: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            412: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            413: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            415: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            422: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getDocumentHistory: {
        parameters: {
            query?: {
                /** @description return events with a version greater than this */
                after?: number;
                /** @description page size, 1 to 1000 (default 100) */
                limit?: number;
            };
            header?: never;
            path: {
                collection: string;
                /** @description 1 to 512 UTF-8 bytes, no '/' or control characters, not '.' or '..'; percent-encoded */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of events */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HistoryPage"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            404: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    queryCollection: {
        parameters: {
            query?: {
                /** @description filters on declared indexed fields, combined with AND: where[field]=value (equality) or where[field][op]=value; booleans are true/false */
                where?: {
                    [key: string]: string | {
                        eq?: string;
                        ne?: string;
                        gt?: string;
                        gte?: string;
                        lt?: string;
                        lte?: string;
                        /** @description comma-separated, at most 50 values */
                        in?: string;
                        /** @description strings only */
                        prefix?: string;
                    };
                };
                /** @description an indexed field, or -field for descending; default: the collection's, else id */
                order?: string;
                /** @description page size, 1 to 200 (default 50) */
                limit?: number;
                /** @description the previous page's next */
                cursor?: string;
                /** @description queries are served by the read model: eventual only */
                consistency?: "eventual";
            };
            header?: {
                /** @description never answer with a version older than the token covers; the answer carries it on, with what it saw */
                "Consistency-Token"?: string;
                /** @description echoed back; generated when absent or malformed */
                "X-Request-Id"?: string;
            };
            path: {
                collection: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of documents */
            200: {
                headers: {
                    /** @description read-model or primary */
                    "Read-Source"?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QueryPage"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createDocument: {
        parameters: {
            query?: never;
            header?: {
                /** @description write only if the document is at one of these versions ("3") or exists (*) */
                "If-Match"?: string;
                /** @description * makes the write create-only */
                "If-None-Match"?: string;
                /** @description 1 to 255 printable ASCII characters; a retry with the same key replays the first answer */
                "Idempotency-Key"?: string;
                /** @description the token from earlier responses; the answer carries it on */
                "Consistency-Token"?: string;
                /** @description echoed back; generated when absent or malformed */
                "X-Request-Id"?: string;
            };
            path: {
                collection: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DocumentData"];
            };
        };
        responses: {
            /** @description created */
            201: {
                headers: {
                    /** @description the version as a strong entity tag: "3" */
                    ETag?: string;
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description the created document's URL */
                    Location?: string;
                    /** @description carry it to later requests for read-your-writes and monotonic reads */
                    "Consistency-Token"?: string;
                    /** @description true when this is the stored answer to an earlier request with the same Idempotency-Key */
                    "Idempotent-Replayed"?: string;
                    /** @description how far behind the read model is, in ms: slow down as it grows (collections that opt in refuse writes past a bound) */
                    "Projection-Lag"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Envelope"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            400: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            401: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            403: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            409: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            412: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            413: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            415: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            422: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            429: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Problem Details (RFC 9457) */
            503: {
                headers: {
                    /** @description this request's id, as logged */
                    "X-Request-Id"?: string;
                    /** @description seconds to wait before retrying */
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
