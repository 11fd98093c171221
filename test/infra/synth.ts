/**
 * The stack as `cdk deploy` would build it, for assertions: `buildApp` with the
 * given context, cdk-nag included. Bundling is skipped here (the `cdk synth`
 * test bundles for real), so a template takes a second, not ten.
 */
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '#infra/app';

export function synthStack(context: Record<string, unknown> = {}, change?: (stack: Stack) => void) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const { stack } = buildApp(app);
  change?.(stack);
  // Validation plugins (cdk-nag) run here: an unacknowledged finding throws.
  app.synth();
  return { stack, template: Template.fromStack(stack) };
}

type Statement = {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
};

/** Every statement of every IAM policy in the template, with the roles it is attached to. */
export function policyStatements(template: Template) {
  const policies = template.findResources('AWS::IAM::Policy') as Record<
    string,
    { Properties: { PolicyDocument: { Statement: Statement[] }; Roles: { Ref: string }[] } }
  >;
  return Object.values(policies).flatMap((policy) =>
    policy.Properties.PolicyDocument.Statement.map((statement) => ({
      ...statement,
      actions: [statement.Action].flat(),
      resources: [statement.Resource].flat(),
      roles: policy.Properties.Roles.map((r) => r.Ref),
    })),
  );
}

/** The logical id of the one resource of `type` whose id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1)
    throw new Error(`expected one ${type} named ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}
