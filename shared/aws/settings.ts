/**
 * The AWS variables every program may read: the region, and what the credential chain
 * (`credentials.ts`) looks at. The worker signs S3 requests with them; every Kafka client signs
 * the MSK IAM token with them (`KAFKA_SASL_MECHANISM=aws-msk-iam`).
 */
import { z } from "zod";
import { env } from "../config.ts";

const awsRegion = () => z.string().regex(/^[a-z]{2,}(?:-[a-z0-9]+)+$/, "expected a region name");

/** The AWS variables; spread into a program's config schema (through the Kafka ones). */
export const awsSettingsSchema = {
  /** The region (AWS SDK convention; AWS_DEFAULT_REGION when unset). */
  AWS_REGION: awsRegion().optional(),
  /** The region, when AWS_REGION is unset. */
  AWS_DEFAULT_REGION: awsRegion().optional(),
  /** Static credentials (first in the chain), with AWS_SECRET_ACCESS_KEY. */
  AWS_ACCESS_KEY_ID: z.string().regex(/^[A-Z0-9]{16,128}$/, "expected an access key id").optional(),
  /** The secret of AWS_ACCESS_KEY_ID; never logged. */
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** The session token of temporary static credentials; never logged. */
  AWS_SESSION_TOKEN: z.string().min(1).optional(),
  /** ECS: the task role's credentials path on 169.254.170.2 (set by ECS). */
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: z.string().startsWith("/").optional(),
  /** A full credentials URL (EKS Pod Identity, set by the agent). */
  AWS_CONTAINER_CREDENTIALS_FULL_URI: z.url({ protocol: /^https?$/ }).optional(),
  /** The Authorization header for the container endpoint; never logged. */
  AWS_CONTAINER_AUTHORIZATION_TOKEN: z.string().min(1).optional(),
  /** A file holding that header, read at every refresh (EKS Pod Identity). */
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: z.string().min(1).optional(),
  /** Never ask EC2 instance metadata for credentials. */
  AWS_EC2_METADATA_DISABLED: env.bool().default(false),
};
