/**
 * The company identity providers people sign in through, as CDK context
 * (`identityProviders`), validated at synth with messages that name the
 * setting, and turned into the user pool's SAML and OIDC providers. An OIDC
 * client secret is read by CloudFormation from Secrets Manager (a dynamic
 * reference): it is never in context or in the template.
 */
import { readFileSync } from 'node:fs';
import { SecretValue } from 'aws-cdk-lib';
import {
  type IUserPool,
  OidcAttributeRequestMethod,
  ProviderAttribute,
  UserPoolIdentityProviderOidc,
  UserPoolIdentityProviderSaml,
  UserPoolIdentityProviderSamlMetadata,
} from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import { z } from 'zod';
import { cognitoProviderName, groupsAttribute } from '#shared/auth/pre-token-claims';

/** The IdP's name prefixes its groups (`okta:payments-eng`) and Cognito's federated user names. */
const providerName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$/,
    'must be 3-32 lowercase letters, digits or dashes (it prefixes group names: okta:payments-eng)',
  )
  .refine((name) => name !== cognitoProviderName && name !== 'local', 'is reserved');

/** The IdP's attribute (SAML) or claim (OIDC) names that carry each user pool attribute. */
const attributes = z.strictObject({
  email: z.string().min(1).max(256),
  name: z.string().min(1).max(256).optional(),
  groups: z.string().min(1).max(256).optional(),
});

const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https URL' });

const saml = z
  .strictObject({
    type: z.literal('saml'),
    name: providerName,
    metadataUrl: httpsUrl.optional(),
    /** Path of the IdP's metadata XML, relative to where `cdk` runs. */
    metadataFile: z.string().min(1).optional(),
    attributes,
    /** Sign out of the IdP too when signing out of Portolan (SAML single logout). @default false */
    idpSignout: z.boolean().optional(),
  })
  .refine((idp) => (idp.metadataUrl === undefined) !== (idp.metadataFile === undefined), {
    error: 'set exactly one of metadataUrl and metadataFile',
  });

const oidc = z.strictObject({
  type: z.literal('oidc'),
  name: providerName,
  issuer: httpsUrl,
  clientId: z.string().min(1).max(256),
  clientSecret: z
    .never({ error: 'must not be in context: store it in Secrets Manager and set clientSecretArn' })
    .optional(),
  clientSecretArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/,
      'must be the ARN of a Secrets Manager secret holding the client secret as plain text',
    ),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be an OAuth scope'))
    .refine((scopes) => scopes.includes('openid'), 'must include openid')
    .default(['openid', 'email', 'profile']),
  attributes,
  /** How Cognito calls the IdP's userinfo endpoint. @default GET */
  attributeRequestMethod: z.enum(['GET', 'POST']).optional(),
});

export const identityProvidersSchema = z
  .array(z.discriminatedUnion('type', [saml, oidc], { error: 'type must be "saml" or "oidc"' }))
  .max(50)
  .superRefine((providers, context) => {
    const seen = new Set<string>();
    providers.forEach((provider, index) => {
      if (seen.has(provider.name))
        context.addIssue({ code: 'custom', path: [index, 'name'], message: 'is used by another provider' });
      seen.add(provider.name);
    });
  });

export type IdentityProviderConfig = z.infer<typeof identityProvidersSchema>[number];

/**
 * Reads a context value with `schema`, or throws one message per problem, each
 * naming the setting and where in it: `identityProviders[0].metadataUrl: must be an https URL`.
 */
export function parseSetting<T>(setting: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path
      .map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))
      .join('');
    return `${setting}${where}: ${issue.message}`;
  });
  throw new Error(`invalid context: ${problems.join('; ')}`);
}

/** The user pool attribute mapping: email, name, and groups into `custom:groups`. */
function attributeMapping(config: IdentityProviderConfig) {
  const { email, name, groups } = config.attributes;
  return {
    email: ProviderAttribute.other(email),
    ...(name ? { fullname: ProviderAttribute.other(name) } : {}),
    // CDK writes custom keys as given: the attribute's full name, `custom:groups`.
    ...(groups ? { custom: { [groupsAttribute]: ProviderAttribute.other(groups) } } : {}),
  };
}

export function addIdentityProvider(
  scope: Construct,
  userPool: IUserPool,
  config: IdentityProviderConfig,
): UserPoolIdentityProviderSaml | UserPoolIdentityProviderOidc {
  const id = `Idp-${config.name}`;
  if (config.type === 'saml') {
    return new UserPoolIdentityProviderSaml(scope, id, {
      userPool,
      name: config.name,
      metadata: config.metadataUrl
        ? UserPoolIdentityProviderSamlMetadata.url(config.metadataUrl)
        : UserPoolIdentityProviderSamlMetadata.file(readMetadata(config)),
      attributeMapping: attributeMapping(config),
      idpSignout: config.idpSignout ?? false,
    });
  }
  return new UserPoolIdentityProviderOidc(scope, id, {
    userPool,
    name: config.name,
    issuerUrl: config.issuer,
    clientId: config.clientId,
    // A CloudFormation dynamic reference ({{resolve:secretsmanager:...}}): resolved at deploy time.
    clientSecret: SecretValue.secretsManager(config.clientSecretArn).unsafeUnwrap(),
    scopes: config.scopes,
    attributeMapping: attributeMapping(config),
    ...(config.attributeRequestMethod
      ? { attributeRequestMethod: OidcAttributeRequestMethod[config.attributeRequestMethod] }
      : {}),
  });
}

function readMetadata(config: { name: string; metadataFile?: string | undefined }): string {
  try {
    return readFileSync(config.metadataFile as string, 'utf8');
  } catch (error) {
    throw new Error(
      `invalid context: identityProviders (${config.name}).metadataFile: cannot read ${config.metadataFile}: ${(error as Error).message}`,
    );
  }
}

/** A managed-login redirect: https, or http on the loopback host (a CLI's local listener). */
const redirectUrl = z
  .url({ error: 'must be a URL' })
  .refine((url) => {
    const { protocol, hostname } = new URL(url);
    return protocol === 'https:' || (protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(hostname));
  }, 'must be https, or http on 127.0.0.1 or localhost')
  .refine((url) => !url.includes('#'), 'must not have a fragment');

/** The people sign-in settings besides the IdPs themselves, as read from context. */
export const peopleSettingsSchemas = {
  peopleCallbackUrls: z.array(redirectUrl).min(1).max(100),
  peopleLogoutUrls: z.array(redirectUrl).min(1).max(100),
  peopleRefreshTokenDays: z.coerce
    .number({ error: 'must be a number of days' })
    .int('must be a whole number of days')
    .min(1, 'must be at least 1 day')
    .max(3650, 'must be at most 3650 days (Cognito’s limit)'),
  peopleCognitoUsers: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]),
  /** Members of these groups administer Portolan: `<idp-name>:<group>`, as in the `groups` claim. */
  adminGroups: z
    .array(
      z
        .string()
        .max(256)
        .regex(/^[a-z0-9-]{3,32}:.+$/, 'must be <idp-name>:<group>, e.g. okta:portolan-admins'),
    )
    .max(50),
};
